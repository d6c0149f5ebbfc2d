package pool

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

func TestShutdownDrainsWithLiveContexts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, _ := newTestPool(t, testConfig(2, 10))
		b := newBlocker(10)
		var live atomic.Int64
		for range 2 {
			p.Submit(b.job("running"))
		}
		for range 8 {
			p.Submit(Job{Name: "queued", Execute: func(ctx context.Context) error {
				dl, _ := ctx.Deadline()
				if ctx.Err() == nil && time.Until(dl) == p.jobTimeout {
					live.Add(1)
				}
				return nil
			}})
		}
		synctest.Wait()

		shut := make(chan error, 1)
		go func() { shut <- p.Shutdown(context.Background()) }()
		synctest.Wait()
		if p.IsRunning() {
			t.Error("IsRunning() while draining = true, want false")
		}
		if p.Submit(nop("late")) {
			t.Error("Submit() while draining = true, want false")
		}
		time.Sleep(time.Duration(p.cfg.ShutdownTimeoutSeconds-1) * time.Second)
		close(b.release)

		if err := <-shut; err != nil {
			t.Fatalf("Shutdown() = %v, want nil", err)
		}
		if got := live.Load(); got != 8 {
			t.Errorf("queued jobs run with a live context and their own timeout = %d, want 8", got)
		}
		c := readCounts(t, p)
		if c.completed != 10 || c.shutdown != 0 {
			t.Errorf("completed, dropped{shutdown} = %v, %v, want 10, 0", c.completed, c.shutdown)
		}
	})
}

func TestShutdownTimeoutAbandonsQueuedJobs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var dropped atomic.Int64
		onDrop := WithDropHandler(func(_ Job, r DropReason) {
			if r == DropShutdown {
				dropped.Add(1)
			}
		})
		cfg := testConfig(2, 10)
		cfg.JobTimeoutSeconds = 3600
		p, _ := newTestPool(t, cfg, onDrop)
		b := newBlocker(10)
		var started atomic.Int64
		for range 2 {
			p.Submit(b.job("stuck"))
		}
		for range 5 {
			p.Submit(Job{Name: "queued", Execute: func(context.Context) error {
				started.Add(1)
				return nil
			}})
		}
		synctest.Wait()

		start := time.Now()
		err := p.Shutdown(context.Background())
		elapsed := time.Since(start)

		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Shutdown() = %v, want DeadlineExceeded", err)
		}
		if !strings.Contains(err.Error(), "0 jobs still running, 5 queued jobs never ran") {
			t.Errorf("Shutdown() error = %q, want the counts", err)
		}
		want := time.Duration(cfg.ShutdownTimeoutSeconds) * time.Second
		if elapsed < want || elapsed > want+cancelGrace {
			t.Errorf("Shutdown() took %v, want between %v and %v", elapsed, want, want+cancelGrace)
		}
		if got := started.Load(); got != 0 {
			t.Errorf("queued jobs started after the deadline = %d, want 0", got)
		}
		if got := dropped.Load(); got != 5 {
			t.Errorf("drop handler saw %d shutdown drops, want 5", got)
		}
		c := readCounts(t, p)
		checkAccounting(t, c, 7)
		if c.shutdown != 5 || c.errors != 2 {
			t.Errorf("dropped{shutdown}, errors = %v, %v, want 5, 2", c.shutdown, c.errors)
		}
	})
}

func TestShutdownReportsJobsIgnoringCancellation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, _ := newTestPool(t, testConfig(1, 1))
		release := make(chan struct{})
		p.Submit(Job{Name: "stubborn", Execute: func(context.Context) error {
			<-release
			return nil
		}})
		synctest.Wait()

		err := p.Shutdown(context.Background())
		if !errors.Is(err, context.DeadlineExceeded) ||
			!strings.Contains(err.Error(), "1 jobs still running") {
			t.Errorf("Shutdown() = %v, want DeadlineExceeded naming 1 running job", err)
		}
		close(release)
		synctest.Wait()
		if got := p.ActiveWorkers(); got != 0 {
			t.Errorf("ActiveWorkers() once the job returned = %d, want 0", got)
		}
	})
}

func TestShutdownWithDoneContext(t *testing.T) {
	tests := []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
		want error
	}{
		{"cancelled", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx, cancel
		}, context.Canceled},
		{"expired", func() (context.Context, context.CancelFunc) {
			return context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
		}, context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p, _ := newTestPool(t, testConfig(1, 4))
				b := newBlocker(4)
				p.Submit(b.job("running"))
				p.Submit(b.job("queued"))
				synctest.Wait()

				ctx, cancel := tt.ctx()
				defer cancel()
				start := time.Now()
				err := p.Shutdown(ctx)
				if !errors.Is(err, tt.want) {
					t.Errorf("Shutdown(%s ctx) = %v, want %v", tt.name, err, tt.want)
				}
				if elapsed := time.Since(start); elapsed != 0 {
					t.Errorf("Shutdown(%s ctx) took %v, want no wait for a job that honours its context",
						tt.name, elapsed)
				}
			})
		})
	}
}

func TestShutdownTwiceConcurrently(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, _ := newTestPool(t, testConfig(1, 1))
		b := newBlocker(1)
		p.Submit(b.job("running"))
		synctest.Wait()

		errs := make(chan error, 3)
		for range 3 {
			go func() { errs <- p.Shutdown(context.Background()) }()
		}
		synctest.Wait()
		close(b.release)
		for range 3 {
			if err := <-errs; err != nil {
				t.Errorf("Shutdown() = %v, want nil", err)
			}
		}
		if err := p.Shutdown(context.Background()); err != nil {
			t.Errorf("Shutdown() after the drain = %v, want nil", err)
		}
	})
}

func TestLaterShutdownEndsWithItsContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, _ := newTestPool(t, testConfig(1, 1))
		b := newBlocker(1)
		p.Submit(b.job("running"))
		synctest.Wait()

		first := make(chan error, 1)
		go func() { first <- p.Shutdown(context.Background()) }()
		synctest.Wait()

		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if err := p.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("second Shutdown() with a 1s ctx = %v, want DeadlineExceeded", err)
		}
		close(b.release)
		if err := <-first; err != nil {
			t.Errorf("first Shutdown() = %v, want nil", err)
		}
	})
}

func TestShutdownBeforeStart(t *testing.T) {
	t.Parallel()
	p, err := New(testConfig(1, 1))
	if err != nil {
		t.Fatalf("New() error = %v", err)
	}
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown() before Start = %v, want nil", err)
	}
	p.Start()
	if p.IsRunning() {
		t.Error("IsRunning() after Shutdown then Start = true, want false")
	}
}

func TestShutdownFromInsideJob(t *testing.T) {
	t.Parallel()
	p, _ := newTestPool(t, testConfig(2, 4))

	result := make(chan error, 1)
	p.Submit(Job{Name: "stopper", Execute: func(ctx context.Context) error {
		result <- p.Shutdown(ctx)
		return nil
	}})
	if err := <-result; err != nil {
		t.Errorf("Shutdown(job ctx) inside a job = %v, want nil", err)
	}
	if err := p.Shutdown(context.Background()); err != nil {
		t.Errorf("Shutdown() after a job began it = %v, want nil", err)
	}
	if p.IsRunning() {
		t.Error("IsRunning() = true, want false")
	}
}

// TestSubmitRacingShutdown submits from many goroutines while Shutdown runs,
// over many rounds: no Submit may panic, and every accepted job must be run
// or counted as abandoned.
func TestSubmitRacingShutdown(t *testing.T) {
	t.Parallel()
	for round := range 200 {
		p, err := New(testConfig(4, 8))
		if err != nil {
			t.Fatalf("New() error = %v", err)
		}
		p.Start()

		var accepted, ran atomic.Int64
		var wg sync.WaitGroup
		start := make(chan struct{})
		for range 8 {
			wg.Go(func() {
				<-start
				for range 50 {
					if p.Submit(Job{Execute: func(context.Context) error {
						ran.Add(1)
						return nil
					}}) {
						accepted.Add(1)
					}
				}
			})
		}
		close(start)
		if err := p.Shutdown(context.Background()); err != nil {
			t.Fatalf("round %d: Shutdown() = %v, want nil", round, err)
		}
		wg.Wait()

		c := readCounts(t, p)
		if float64(accepted.Load()) != c.submitted || float64(ran.Load()) != c.completed {
			t.Fatalf("round %d: accepted, ran = %d, %d; counted %v, %v",
				round, accepted.Load(), ran.Load(), c.submitted, c.completed)
		}
		checkAccounting(t, c, 8*50)
	}
}

// TestAccountingUnderConcurrentProducers mixes every way a job can end under
// eight producers and a shutdown deadline that cuts the drain short.
func TestAccountingUnderConcurrentProducers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := testConfig(4, 16)
		cfg.JobTimeoutSeconds = 2
		p, _ := newTestPool(t, cfg)

		ends := []func(ctx context.Context) error{
			func(context.Context) error { return nil },
			func(context.Context) error { return errors.New("boom") },
			func(context.Context) error { panic("boom") },
			func(ctx context.Context) error { <-ctx.Done(); return nil },
			func(context.Context) error { time.Sleep(time.Second); return nil },
		}
		const producers, perProducer = 8, 40
		var wg sync.WaitGroup
		for i := range producers {
			wg.Go(func() {
				for j := range perProducer {
					p.Submit(Job{Name: "mixed", Execute: ends[(i+j)%len(ends)]})
					if j%10 == 0 {
						time.Sleep(time.Second)
					}
				}
			})
		}
		wg.Wait()

		err := p.Shutdown(context.Background())
		c := readCounts(t, p)
		checkAccounting(t, c, producers*perProducer)
		if c.shutdown > 0 && !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Shutdown() = %v with %v abandoned, want DeadlineExceeded", err, c.shutdown)
		}
		if got := p.ActiveWorkers() + p.QueueDepth(); got != 0 {
			t.Errorf("ActiveWorkers()+QueueDepth() at rest = %d, want 0", got)
		}
	})
}
