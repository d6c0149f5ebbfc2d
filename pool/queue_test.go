package pool

import (
	"runtime"
	"sync"
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
			if got := r.push(value(next)); got != pushOK {
				t.Fatalf("size %d: push(%d) = %v, want ok", size, next, got)
			}
			next++
		}
		if got := r.push(value(-1)); got != pushFull {
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
			if got := r.push(value(next)); got != pushOK {
				t.Fatalf("size %d: push(%d) after a pop = %v, want ok", size, next, got)
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
	if got := r.push(value(3)); got != pushClosed {
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
				for r.push(value(id*each+n)) == pushFull {
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

// TestRingCloseWhileProducersPush closes the ring while producers push to it
// and a consumer pops: every push reported done is counted and popped once,
// and none after the close.
func TestRingCloseWhileProducersPush(t *testing.T) {
	t.Parallel()
	const producers = 4
	r := newRing(16)
	oks := make([]int, producers)
	var wg sync.WaitGroup
	for id := range producers {
		wg.Go(func() {
			for n := 0; ; n++ {
				switch r.push(value(id<<40 | n)) {
				case pushOK:
					oks[id]++
				case pushFull:
					runtime.Gosched()
				case pushClosed:
					return
				}
			}
		})
	}

	seen := make(map[int]bool)
	take := func(it item) {
		v := int(it.enqueued)
		if seen[v] {
			t.Fatalf("item %#x popped twice", v)
		}
		seen[v] = true
	}
	for len(seen) < 1000 {
		if it, ok := r.pop(); ok {
			take(it)
		} else {
			runtime.Gosched()
		}
	}
	r.close()
	for {
		it, ok := r.popClosed()
		if !ok {
			break
		}
		take(it)
	}
	wg.Wait()

	total := 0
	for _, n := range oks {
		total += n
	}
	if total != len(seen) || r.pushes() != uint64(total) {
		t.Errorf("pushes reported ok = %d, popped = %d, pushes() = %d; want all equal",
			total, len(seen), r.pushes())
	}
}

// TestRingPopClosedWaitsForUnfinishedPush closes a ring while a push has
// claimed a cell and not filled it: popClosed must wait for the item rather
// than report the ring empty.
func TestRingPopClosedWaitsForUnfinishedPush(t *testing.T) {
	t.Parallel()
	r := newRing(2)
	release := make(chan struct{})
	go r.push(func() item {
		<-release
		return value(7)()
	})
	for r.len() == 0 { // the push has claimed its cell
		runtime.Gosched()
	}
	r.close()

	type result struct {
		it item
		ok bool
	}
	got := make(chan result)
	go func() {
		it, ok := r.popClosed()
		got <- result{it, ok}
	}()
	for range 10 {
		runtime.Gosched() // give popClosed a chance to find the cell unfilled
	}
	close(release)
	if res := <-got; !res.ok || res.it.enqueued != 7 {
		t.Errorf("popClosed() = %v, %v, want 7, true", res.it.enqueued, res.ok)
	}
}
