package pool

import (
	"runtime"
	"sync/atomic"
	"unsafe"
)

// ring is the pool's queue: a bounded multi-producer, multi-consumer ring of
// items that takes no lock, after Dmitry Vyukov's bounded MPMC queue.
// Producers claim a position by compare-and-swap on tail, consumers on head,
// and each slot's sequence number says whose turn it is: the slot for
// position pos is free for that push when its sequence is 2*pos, holds the
// pushed item when it is 2*pos+1, and is freed for the push one lap later
// when the pop sets it to 2*(pos+size). (Doubling keeps the states of a
// one-slot ring apart.)
//
// Producers and consumers work on different cache lines, so a submitter does
// not wait for a worker, nor a worker for a submitter, as they would on the
// lock of a channel.
//
// close sets a bit in tail that makes every later push fail, so intake stops
// at one point in time that every push agrees on, and the count of pushes
// (tail without the bit) is final.
type ring struct {
	_     [64]byte      // keeps tail off the line of whatever precedes the ring
	tail  atomic.Uint64 // next position to push, and closedBit
	_     [56]byte
	head  atomic.Uint64 // next position to pop
	_     [56]byte
	slots []slot
	size  uint64
}

// slot is one place in the ring. It fills a cache line, so that a worker
// taking one job and a submitter queueing the next do not contend for a line;
// the padding stops compiling if item outgrows the line.
type slot struct {
	seq atomic.Uint64
	it  item
	_   [64 - 8 - unsafe.Sizeof(item{})]byte
}

// closedBit marks a closed ring in tail. Positions never reach it: at a
// billion pushes a second, that takes three centuries.
const closedBit = 1 << 63

// Results of ring.push.
type pushResult int

const (
	pushed pushResult = iota
	full
	closed
)

func (r pushResult) String() string {
	return [...]string{"pushed", "full", "closed"}[r]
}

func newRing(size int) *ring {
	r := &ring{slots: make([]slot, size), size: uint64(size)}
	for i := range r.slots {
		r.slots[i].seq.Store(2 * uint64(i))
	}
	return r
}

// push appends the item that fill returns. fill runs only once a slot is
// claimed, so a refused push costs no more than reading two words.
func (r *ring) push(fill func() item) pushResult {
	pos := r.tail.Load()
	for {
		if pos&closedBit != 0 {
			return closed
		}
		s := &r.slots[pos%r.size]
		switch d := int64(s.seq.Load() - 2*pos); {
		case d == 0:
			if r.tail.CompareAndSwap(pos, pos+1) {
				s.it = fill()
				s.seq.Store(2*pos + 1)
				return pushed
			}
		case d < 0:
			// The slot still holds the item pushed one lap ago.
			return full
		}
		pos = r.tail.Load()
	}
}

// pop removes the oldest item. It reports false when there is none, or when
// the oldest is still being written by its push; that push's producer wakes
// a worker once it is done.
func (r *ring) pop() (item, bool) {
	pos := r.head.Load()
	for {
		s := &r.slots[pos%r.size]
		switch d := int64(s.seq.Load() - (2*pos + 1)); {
		case d == 0:
			if r.head.CompareAndSwap(pos, pos+1) {
				it := s.it
				s.it = item{} // let the job be collected
				s.seq.Store(2 * (pos + r.size))
				return it, true
			}
		case d < 0:
			return item{}, false
		}
		pos = r.head.Load()
	}
}

// popClosed removes the oldest item of a closed ring, waiting out pushes that
// claimed a slot before the ring closed. It reports false once the ring is
// empty for good.
func (r *ring) popClosed() (item, bool) {
	for {
		if it, ok := r.pop(); ok {
			return it, true
		}
		if r.head.Load() >= r.tail.Load()&^closedBit {
			return item{}, false
		}
		// A push claimed a slot and has not filled it yet; it is a few
		// instructions from done unless its goroutine was preempted.
		runtime.Gosched()
	}
}

// ready reports whether pop would find an item now.
func (r *ring) ready() bool {
	pos := r.head.Load()
	return r.slots[pos%r.size].seq.Load() == 2*pos+1
}

// close makes every later push fail.
func (r *ring) close() { r.tail.Or(closedBit) }

// isClosed reports whether close has been called.
func (r *ring) isClosed() bool { return r.tail.Load()&closedBit != 0 }

// pushes returns the number of successful pushes so far.
func (r *ring) pushes() uint64 { return r.tail.Load() &^ closedBit }

// len returns the number of items in the ring, counting those whose push or
// pop is under way.
func (r *ring) len() int {
	h := r.head.Load()
	t := r.tail.Load() &^ closedBit
	if t < h {
		return 0
	}
	return int(min(t-h, r.size))
}
