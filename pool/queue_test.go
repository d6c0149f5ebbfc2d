package pool

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// value returns an item that carries n, for tests of the ring alone.
func value(n int) func() item {
	return func() item { return item{enqueued: time.Duration(n)} }
}

func TestRingKeepsOrderAcrossLaps(t *testing.T) {
	t.Parallel()
	for _, size := range []int{1, 2, 3, 8} {
		r := newRing(size)
		next, want := 0, 0
		// Fill, then alternate pops and pushes for several laps.
		for range size {
			if got := r.push(value(next)); got != pushed {
				t.Fatalf("size %d: push(%d) = %v, want pushed", size, next, got)
			}
			next++
		}
		if got := r.push(value(-1)); got != full {
			t.Fatalf("size %d: push on a full ring = %v, want full", size, got)
		}
		if got := r.len(); got != size {
			t.Errorf("size %d: len() of a full ring = %d, want %d", size, got, size)
		}
		for range 5 * size {
			it, ok := r.pop()
			if !ok || int(it.enqueued) != want {
				t.Fatalf("size %d: pop() = %v, %v, want %d, true", size, it.enqueued, ok, want)
			}
			want++
			if got := r.push(value(next)); got != pushed {
				t.Fatalf("size %d: push(%d) after a pop = %v, want pushed", size, next, got)
			}
			next++
		}
		for r.ready() {
			it, _ := r.pop()
			if int(it.enqueued) != want {
				t.Fatalf("size %d: pop() = %d, want %d", size, it.enqueued, want)
			}
			want++
		}
		if _, ok := r.pop(); ok {
			t.Errorf("size %d: pop() on an empty ring = true, want false", size)
		}
		if want != next || r.len() != 0 || r.pushes() != uint64(next) {
			t.Errorf("size %d: popped %d, len %d, pushes %d; want %d, 0, %d",
				size, want, r.len(), r.pushes(), next, next)
		}
	}
}

func TestRingCloseStopsPushesNotPops(t *testing.T) {
	t.Parallel()
	r := newRing(4)
	r.push(value(1))
	r.push(value(2))
	r.close()
	r.close() // closing twice is harmless

	if !r.isClosed() {
		t.Fatal("isClosed() after close = false, want true")
	}
	if got := r.push(value(3)); got != closed {
		t.Errorf("push() after close = %v, want closed", got)
	}
	if got := r.pushes(); got != 2 {
		t.Errorf("pushes() = %d, want 2", got)
	}
	for _, want := range []int{1, 2} {
		if it, ok := r.popClosed(); !ok || int(it.enqueued) != want {
			t.Errorf("popClosed() = %v, %v, want %d, true", it.enqueued, ok, want)
		}
	}
	if _, ok := r.popClosed(); ok {
		t.Error("popClosed() on a drained ring = true, want false")
	}
}

// TestRingConcurrent has producers and consumers share a small ring, so that
// it is full and empty many times over, and checks that every item comes out
// exactly once and that each producer's items come out in its order.
func TestRingConcurrent(t *testing.T) {
	t.Parallel()
	const producers, consumers, each = 4, 4, 5000
	r := newRing(7)

	var prod sync.WaitGroup
	for id := range producers {
		prod.Go(func() {
			for n := range each {
				for r.push(value(id*each+n)) == full {
					runtime.Gosched()
				}
			}
		})
	}

	got := make([][]int, consumers)
	var cons sync.WaitGroup
	for c := range consumers {
		cons.Go(func() {
			for {
				it, ok := r.pop()
				if !ok {
					if r.isClosed() {
						if it, ok = r.popClosed(); !ok {
							return
						}
					} else {
						runtime.Gosched()
						continue
					}
				}
				got[c] = append(got[c], int(it.enqueued))
			}
		})
	}
	prod.Wait()
	r.close()
	cons.Wait()

	seen := make([]bool, producers*each)
	for c, values := range got {
		last := make([]int, producers)
		for i := range last {
			last[i] = -1
		}
		for _, v := range values {
			if seen[v] {
				t.Fatalf("item %d popped twice", v)
			}
			seen[v] = true
			id, n := v/each, v%each
			if n <= last[id] {
				t.Fatalf("consumer %d popped item %d of producer %d after item %d", c, n, id, last[id])
			}
			last[id] = n
		}
	}
	for v, ok := range seen {
		if !ok {
			t.Fatalf("item %d never popped", v)
		}
	}
	if r.pushes() != producers*each || r.len() != 0 {
		t.Errorf("pushes() = %d, len() = %d, want %d, 0", r.pushes(), r.len(), producers*each)
	}
}

// TestWorkersNeverSleepThroughAJob submits one job at a time and waits for it
// to run before the next, so that the workers go to sleep between jobs and
// every Submit races a worker on its way to sleep. A job a sleeping worker
// missed would never run, and the wait for it would fail.
func TestWorkersNeverSleepThroughAJob(t *testing.T) {
	t.Parallel()
	for _, cfg := range []Config{testConfig(1, 1), testConfig(3, 4), testConfig(2, 0)} {
		p, _ := newTestPool(t, cfg)
		ran := make(chan struct{})
		job := Job{Name: "ping", Execute: func(context.Context) error {
			ran <- struct{}{}
			return nil
		}}
		for i := range 2000 {
			// With no queue a job is refused until a worker is idle.
			for !p.Submit(job) {
				runtime.Gosched()
			}
			select {
			case <-ran:
			case <-time.After(10 * time.Second):
				t.Fatalf("%+v: job %d not run after 10s", cfg, i)
			}
		}
	}
}

// TestSubmitWaitWithManyWaiters has more SubmitWait callers than the queue
// has room, on several workers, so that callers wait for room again and
// again; every job must be queued and run.
func TestSubmitWaitWithManyWaiters(t *testing.T) {
	t.Parallel()
	for _, cfg := range []Config{testConfig(2, 1), testConfig(3, 0)} {
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
						t.Errorf("%+v: SubmitWait() = %v, want nil", cfg, err)
						return
					}
				}
			})
		}
		wg.Wait()
		if err := p.Shutdown(context.Background()); err != nil {
			t.Fatalf("%+v: Shutdown() = %v", cfg, err)
		}
		if got := ran.Load(); got != callers*each {
			t.Errorf("%+v: %d jobs ran, want %d", cfg, got, callers*each)
		}
		checkAccounting(t, readCounts(t, p), callers*each)
	}
}

// TestWorkerSeesJobQueuedAsItGoesToSleep queues a job in the moment between a
// worker finding the queue empty and going to sleep, the moment a wake-up
// can be lost.
func TestWorkerSeesJobQueuedAsItGoesToSleep(t *testing.T) {
	t.Parallel()
	for _, cfg := range []Config{testConfig(1, 1), testConfig(1, 0)} {
		p, err := New(cfg)
		if err != nil {
			t.Fatalf("New() error = %v", err)
		}
		ran := make(chan struct{})
		var once sync.Once
		p.testHookPark = func() {
			once.Do(func() {
				// With no queue no worker is idle yet, so the job is
				// refused; SubmitWait retries once the worker is.
				go func() {
					_ = p.SubmitWait(context.Background(), Job{Name: "late", Execute: func(context.Context) error {
						close(ran)
						return nil
					}})
				}()
				if cfg.QueueSize > 0 {
					for p.QueueDepth() == 0 {
						runtime.Gosched()
					}
				}
			})
		}
		p.Start()
		select {
		case <-ran:
		case <-time.After(10 * time.Second):
			t.Fatalf("%+v: job queued as the worker went to sleep not run after 10s", cfg)
		}
		if err := p.Shutdown(context.Background()); err != nil {
			t.Errorf("Shutdown() = %v", err)
		}
	}
}
