package pool

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

func TestSubmitRunsJob(t *testing.T) {
	t.Parallel()
	p, _ := newTestPool(t, testConfig(2, 4))

	ran := make(chan string, 1)
	ok := p.Submit(Job{Name: "one", Execute: func(context.Context) error {
		ran <- "one"
		return nil
	}})
	if !ok {
		t.Fatal("Submit() = false, want true")
	}
	if got := <-ran; got != "one" {
		t.Errorf("ran %q, want %q", got, "one")
	}
}

func TestConcurrencyIsBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const workers = 3
		p, _ := newTestPool(t, testConfig(workers, 10))
		b := newBlocker(10)

		for i := range 10 {
			if !p.Submit(b.job("blocked")) {
				t.Fatalf("Submit(%d) = false, want true", i)
			}
		}
		synctest.Wait()

		if got := len(b.started); got != workers {
			t.Errorf("jobs started = %d, want %d", got, workers)
		}
		if got := p.ActiveWorkers(); got != workers {
			t.Errorf("ActiveWorkers() = %d, want %d", got, workers)
		}
		if got := p.QueueDepth(); got != 10-workers {
			t.Errorf("QueueDepth() = %d, want %d", got, 10-workers)
		}
		close(b.release)
	})
}

func TestSubmitDropsNewestWhenFull(t *testing.T) {
	t.Parallel()
	var dropped []string
	var mu sync.Mutex
	onDrop := WithDropHandler(func(j Job, r DropReason) {
		mu.Lock()
		defer mu.Unlock()
		dropped = append(dropped, j.Name+":"+r.String())
	})
	p, _ := newTestPool(t, testConfig(1, 2), onDrop)
	b := newBlocker(4)

	p.Submit(b.job("running"))
	b.waitStarted(t, 1)
	for _, name := range []string{"queued1", "queued2"} {
		if !p.Submit(b.job(name)) {
			t.Fatalf("Submit(%s) = false, want true", name)
		}
	}
	if p.Submit(b.job("newest")) {
		t.Fatal("Submit(newest) on a full queue = true, want false")
	}
	close(b.release)
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown() = %v, want nil", err)
	}

	c := readCounts(t, p)
	if c.completed != 3 || c.queueFull != 1 {
		t.Errorf("completed, queue_full = %v, %v, want 3, 1", c.completed, c.queueFull)
	}
	if len(dropped) != 1 || dropped[0] != "newest:queue_full" {
		t.Errorf("dropped = %v, want [newest:queue_full]", dropped)
	}
	checkAccounting(t, c, 4)
}

func TestSubmitWithZeroQueueHandsOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, _ := newTestPool(t, testConfig(1, 0))
		b := newBlocker(2)
		synctest.Wait()

		if !p.Submit(b.job("first")) {
			t.Fatal("Submit() to an idle worker = false, want true")
		}
		synctest.Wait()
		if p.Submit(b.job("second")) {
			t.Error("Submit() with no idle worker = true, want false")
		}
		close(b.release)
	})
}

func TestSubmitBeforeStartAndAfterShutdown(t *testing.T) {
	t.Parallel()
	p, err := New(testConfig(1, 1))
	if err != nil {
		t.Fatalf("New() error = %v", err)
	}
	if p.Submit(nop("early")) {
		t.Error("Submit() before Start = true, want false")
	}
	if err := p.SubmitWait(context.Background(), nop("early")); !errors.Is(err, ErrNotRunning) {
		t.Errorf("SubmitWait() before Start = %v, want ErrNotRunning", err)
	}

	p.Start()
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown() = %v, want nil", err)
	}
	if p.Submit(nop("late")) {
		t.Error("Submit() after Shutdown = true, want false")
	}
	if got := readCounts(t, p).notRunning; got != 3 {
		t.Errorf("dropped{not_running} = %v, want 3", got)
	}
}

func TestStartIsIdempotent(t *testing.T) {
	t.Parallel()
	core, logs := observer.New(zapcore.InfoLevel)
	p, err := New(testConfig(2, 1), WithLogger(zap.New(core)))
	if err != nil {
		t.Fatalf("New() error = %v", err)
	}

	p.Start()
	p.Start()
	if got := logs.FilterMessage("pool started").Len(); got != 1 {
		t.Errorf("pool started logged %d times, want 1", got)
	}
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown() = %v, want nil", err)
	}

	p.Start()
	if p.IsRunning() {
		t.Error("IsRunning() after Start on a stopped pool = true, want false")
	}
	if got := logs.FilterMessage("start ignored: pool is single-use").Len(); got != 1 {
		t.Errorf("start ignored logged %d times, want 1", got)
	}
}

func TestJobContextIsThePools(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, _ := newTestPool(t, testConfig(1, 1))

		type seen struct {
			err      error
			deadline time.Duration
		}
		got := make(chan seen, 1)
		ctx, cancel := context.WithCancel(context.Background())
		release := make(chan struct{})
		err := p.SubmitWait(ctx, Job{Name: "ctx", Execute: func(jctx context.Context) error {
			<-release
			dl, _ := jctx.Deadline()
			got <- seen{jctx.Err(), time.Until(dl)}
			return nil
		}})
		if err != nil {
			t.Fatalf("SubmitWait() = %v, want nil", err)
		}
		cancel()
		close(release)

		s := <-got
		if s.err != nil {
			t.Errorf("job ctx.Err() after submitter cancelled = %v, want nil", s.err)
		}
		if s.deadline != p.jobTimeout {
			t.Errorf("job deadline = %v from now, want %v", s.deadline, p.jobTimeout)
		}
	})
}

func TestSubmitFromInsideJobDoesNotBlock(t *testing.T) {
	t.Parallel()
	p, _ := newTestPool(t, testConfig(1, 2))

	results := make(chan []bool, 1)
	p.Submit(Job{Name: "parent", Execute: func(context.Context) error {
		var got []bool
		for range 4 {
			got = append(got, p.Submit(nop("child")))
		}
		results <- got
		return nil
	}})

	got := <-results
	want := []bool{true, true, false, false}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("Submit() from a job on a 1-worker, 2-slot pool = %v, want %v", got, want)
		}
	}
}

func TestSubmitWaitWaitsForRoom(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, _ := newTestPool(t, testConfig(1, 1))
		b := newBlocker(3)
		p.Submit(b.job("running"))
		synctest.Wait()
		p.Submit(b.job("queued"))
		synctest.Wait()

		result := make(chan error, 1)
		go func() { result <- p.SubmitWait(context.Background(), b.job("waiting")) }()
		synctest.Wait()
		select {
		case err := <-result:
			t.Fatalf("SubmitWait() on a full queue returned %v before room was made", err)
		default:
		}

		b.release <- struct{}{}
		if err := <-result; err != nil {
			t.Errorf("SubmitWait() once room was made = %v, want nil", err)
		}
		close(b.release)
	})
}

func TestSubmitWaitEndsWithContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, _ := newTestPool(t, testConfig(1, 1))
		b := newBlocker(2)
		p.Submit(b.job("running"))
		synctest.Wait()
		p.Submit(b.job("queued"))

		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if err := p.SubmitWait(ctx, nop("late")); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("SubmitWait() past its deadline = %v, want DeadlineExceeded", err)
		}
		if got := readCounts(t, p).queueFull; got != 1 {
			t.Errorf("dropped{queue_full} = %v, want 1", got)
		}
		close(b.release)
	})
}

func TestSubmitWaitEndsWithShutdown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, _ := newTestPool(t, testConfig(1, 1))
		b := newBlocker(2)
		p.Submit(b.job("running"))
		synctest.Wait()
		p.Submit(b.job("queued"))
		synctest.Wait()

		result := make(chan error, 1)
		go func() { result <- p.SubmitWait(context.Background(), nop("waiting")) }()
		synctest.Wait()

		shut := make(chan error, 1)
		go func() { shut <- p.Shutdown(context.Background()) }()
		if err := <-result; !errors.Is(err, ErrNotRunning) {
			t.Errorf("SubmitWait() during Shutdown = %v, want ErrNotRunning", err)
		}
		close(b.release)
		if err := <-shut; err != nil {
			t.Errorf("Shutdown() = %v, want nil", err)
		}
	})
}
