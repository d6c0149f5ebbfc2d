package pool

import (
	"runtime"
	"sync/atomic"
	"unsafe"
)

// ring is the pool's queue: a bounded multi-producer, multi-consumer ring of
// items that takes no lock, after Dmitry Vyukov's bounded MPMC queue.
// Producers claim a position by compare-and-swap on tail, consumers on head,
// and each cell's sequence number says whose turn it is: the cell for
// position pos is free for that push when its sequence is 2*pos, holds the
// pushed item when it is 2*pos+1, and is freed for the push one lap later
// when the pop sets it to 2*(pos+size). (Doubling keeps the states of a
// one-cell ring apart.)
//
// Producers and consumers work on different cache lines, so a submitter does
// not wait for a worker, nor a worker for a submitter, as they would on the
// lock of a channel.
//
// A consumer frees its cell only after copying the item out, so a consumer
// stalled in between (preempted, say) keeps its cell for that long: a push
// that comes round to it reports the ring full with one place fewer in use.
//
// close sets a bit in tail, the word every push claims its position on. A
// push that claimed a position before the bit was set completes; every later
// one fails. So intake stops at one point that every push agrees on, as it
// would if each push checked a flag and enqueued under a lock, and the count
// of pushes (tail without the bit) is final.
type ring struct {
	_     [64]byte      // keeps tail off the line of whatever precedes the ring
	tail  atomic.Uint64 // next position to push, and closedBit
	_     [56]byte
	head  atomic.Uint64 // next position to pop
	_     [56]byte
	cells []cell
	size  uint64
}

// cell is one place in the ring. It is 64 bytes, so that no two cells share a
// cache line, even when the array begins 8 bytes into one, after the header
// the allocator puts on some objects: a worker taking one job and a submitter
// queueing the next do not contend for a line. The padding stops compiling if
// item outgrows the cell.
type cell struct {
	seq atomic.Uint64
	it  item
	_   [64 - 8 - unsafe.Sizeof(item{})]byte
}

// closedBit marks a closed ring in tail. Positions never reach it: at a
// billion pushes a second, that takes three centuries.
const closedBit = 1 << 63

// pushResult is the outcome of ring.push.
type pushResult int

const (
	pushOK pushResult = iota
	pushFull
	pushClosed
)

func (r pushResult) String() string {
	return [...]string{"ok", "full", "closed"}[r]
}

func newRing(size int) *ring {
	r := &ring{cells: make([]cell, size), size: uint64(size)}
	for i := range r.cells {
		r.cells[i].seq.Store(2 * uint64(i))
	}
	return r
}

// push appends the item that fill returns. fill runs only once a cell is
// claimed, so a refused push costs no more than reading two words.
func (r *ring) push(fill func() item) pushResult {
	pos := r.tail.Load()
	for {
		if pos&closedBit != 0 {
			return pushClosed
		}
		c := &r.cells[pos%r.size]
		switch d := int64(c.seq.Load() - 2*pos); {
		case d == 0:
			if r.tail.CompareAndSwap(pos, pos+1) {
				c.it = fill()
				c.seq.Store(2*pos + 1)
				return pushOK
			}
		case d < 0:
			// The cell still holds the item pushed one lap ago.
			return pushFull
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
		c := &r.cells[pos%r.size]
		switch d := int64(c.seq.Load() - (2*pos + 1)); {
		case d == 0:
			if r.head.CompareAndSwap(pos, pos+1) {
				it := c.it
				c.it = item{} // let the job be collected
				c.seq.Store(2 * (pos + r.size))
				return it, true
			}
		case d < 0:
			return item{}, false
		}
		pos = r.head.Load()
	}
}

// popClosed removes the oldest item of a closed ring, waiting out pushes that
// claimed a cell before the ring closed. It reports false once the ring is
// empty for good.
func (r *ring) popClosed() (item, bool) {
	for {
		if it, ok := r.pop(); ok {
			return it, true
		}
		if r.head.Load() >= r.tail.Load()&^closedBit {
			return item{}, false
		}
		// A push claimed a cell and has not filled it yet; it is a few
		// instructions from done unless its goroutine was preempted.
		runtime.Gosched()
	}
}

// ready reports whether pop would find an item now.
func (r *ring) ready() bool {
	pos := r.head.Load()
	return r.cells[pos%r.size].seq.Load() == 2*pos+1
}

// close makes every later push fail.
func (r *ring) close() { r.tail.Or(closedBit) }

// isClosed reports whether close has been called.
func (r *ring) isClosed() bool { return r.tail.Load()&closedBit != 0 }

// pushes returns the number of successful pushes so far.
func (r *ring) pushes() uint64 { return r.tail.Load() &^ closedBit }

// len returns the number of items in the ring, counting pushes that have
// claimed a place and not yet filled it. It reads head first, so it never
// sees tail behind it.
func (r *ring) len() int {
	h := r.head.Load()
	t := r.tail.Load() &^ closedBit
	return int(min(t-h, r.size))
}
