package pool

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
)

// The tests in this file check that idle workers wake for every job. They run
// under synctest, so a lost wake-up, which leaves a worker asleep and the
// test waiting for its job, fails at once as a deadlock of the bubble.

// TestWorkersNeverSleepThroughAJob submits one job at a time and waits for it
// to run before the next, so that the workers go to sleep between jobs and
// every Submit races a worker on its way to sleep.
func TestWorkersNeverSleepThroughAJob(t *testing.T) {
	for _, cfg := range []Config{testConfig(1, 1), testConfig(3, 4), testConfig(2, 0)} {
		synctest.Test(t, func(t *testing.T) {
			p, _ := newTestPool(t, cfg)
			ran := make(chan struct{})
			job := Job{Name: "ping", Execute: func(context.Context) error {
				ran <- struct{}{}
				return nil
			}}
			for range 2000 {
				// With no queue a job is refused until a worker is idle.
				for !p.Submit(job) {
					runtime.Gosched()
				}
				<-ran
			}
		})
	}
}

// TestSubmitWaitWithManyWaiters has more SubmitWait callers than the queue
// has room, on several workers, so that callers wait for room again and
// again; every job must be queued and run.
func TestSubmitWaitWithManyWaiters(t *testing.T) {
	for _, cfg := range []Config{testConfig(2, 1), testConfig(3, 0)} {
		synctest.Test(t, func(t *testing.T) {
			p, _ := newTestPool(t, cfg)
			const callers, each = 16, 100
			var ran atomic.Int64
			job := Job{Name: "count", Execute: func(context.Context) error {
				ran.Add(1)
				return nil
			}}
			var wg sync.WaitGroup
			for range callers {
				wg.Go(func() {
					for range each {
						if err := p.SubmitWait(context.Background(), job); err != nil {
							t.Errorf("SubmitWait() = %v, want nil", err)
							return
						}
					}
				})
			}
			wg.Wait()
			if err := p.Shutdown(context.Background()); err != nil {
				t.Fatalf("Shutdown() = %v", err)
			}
			if got := ran.Load(); got != callers*each {
				t.Errorf("%d jobs ran, want %d", got, callers*each)
			}
			checkAccounting(t, readCounts(t, p), callers*each)
		})
	}
}

// newHookedPool returns a started pool whose workers call hook as they go to
// sleep; see WorkerPool.testHookPark.
func newHookedPool(
	t *testing.T, cfg Config, hook func(p *WorkerPool, registered bool),
) *WorkerPool {
	t.Helper()
	p, err := New(cfg)
	if err != nil {
		t.Fatalf("New(%+v) error = %v", cfg, err)
	}
	p.testHookPark = func(registered bool) { hook(p, registered) }
	p.Start()
	t.Cleanup(func() { _ = p.Shutdown(context.Background()) })
	return p
}

// TestWorkerSeesJobQueuedAsItGoesToSleep queues a job in the moment between a
// worker finding the queue empty and registering as a sleeper. The submitter
// sees no sleeper and wakes no one, so the worker must look at the queue
// again after registering.
func TestWorkerSeesJobQueuedAsItGoesToSleep(t *testing.T) {
	for _, cfg := range []Config{testConfig(1, 1), testConfig(1, 0)} {
		synctest.Test(t, func(t *testing.T) {
			ran := make(chan struct{})
			submitted := make(chan error, 1)
			var once sync.Once
			var wg sync.WaitGroup
			newHookedPool(t, cfg, func(p *WorkerPool, registered bool) {
				if registered {
					return
				}
				once.Do(func() {
					// With no queue the job waits until the worker
					// has registered, then is handed over.
					wg.Go(func() {
						submitted <- p.SubmitWait(context.Background(), Job{
							Name: "late",
							Execute: func(context.Context) error {
								close(ran)
								return nil
							},
						})
					})
					if cfg.QueueSize > 0 {
						if err := <-submitted; err != nil {
							t.Errorf("SubmitWait() = %v, want nil", err)
						}
					}
				})
			})
			<-ran
			wg.Wait()
		})
	}
}

// TestWorkerTakesTokenOwedToIt queues a job after a worker has registered as a
// sleeper but before it looks at the queue again. The submitter claims the
// worker and sends it a token while the worker finds the job itself; the
// worker must still take the token, or a stale token would wake it later for
// nothing and, piling up, block a submitter.
func TestWorkerTakesTokenOwedToIt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ran := make(chan struct{}, 2)
		job := Job{Name: "late", Execute: func(context.Context) error {
			ran <- struct{}{}
			return nil
		}}
		var once sync.Once
		p := newHookedPool(t, testConfig(1, 1), func(p *WorkerPool, registered bool) {
			if registered {
				once.Do(func() {
					if !p.Submit(job) {
						t.Error("Submit() to an idle pool = false, want true")
					}
				})
			}
		})
		<-ran
		synctest.Wait() // the worker is asleep again
		if n, tokens := p.sleepers.Load(), len(p.wake); n != 1 || tokens != 0 {
			t.Errorf("at rest: sleepers = %d, tokens = %d, want 1, 0", n, tokens)
		}
		if !p.Submit(job) {
			t.Fatal("Submit() to an idle pool = false, want true")
		}
		<-ran
	})
}
