package pool

import (
	"context"
	"sync/atomic"
	"time"
)

// jobContext is the context of one job. It ends at the job's deadline, when
// the shutdown deadline cancels it, or when the job returns.
//
// It stands in for context.WithTimeout on a shared parent, which would cost
// a timer, a registration in the parent under the parent's lock, and several
// allocations per job. A jobContext is 24 bytes from its worker's batch (see
// worker.newContext); the channel, timer and callbacks that waiting on it
// needs live in its worker's jobState, reused from job to job and touched
// only when someone waits.
//
// ended is the context's one source of truth: it moves once from live to
// how the context ended, by compare-and-swap, so every reader sees the same
// error for good. When the job returns, finish also sets the returned bit,
// which Err ignores and ActiveWorkers reads. Err reads ended and the clock
// and takes no lock, so a job that only polls Err costs no timer and no
// lock.
type jobContext struct {
	w        *worker
	deadline time.Duration // by the pool's clock
	ended    atomic.Uint32 // live, or how the context ended; see returned
}

var _ context.Context = (*jobContext)(nil)

// Values of jobContext.ended: live, or how the context ended, with the
// returned bit set once the job has returned. The bit only has to lie above
// the codes.
const (
	live uint32 = iota
	endedCanceled
	endedDeadline

	returned uint32 = 1 << 8
)

func endErr(code uint32) error {
	switch code &^ returned {
	case live:
		return nil
	case endedDeadline:
		return context.DeadlineExceeded
	default:
		return context.Canceled
	}
}

// closedChan is the Done channel of contexts that ended before anyone asked
// for their channel.
var closedChan = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

// Deadline returns the end of the job's timeout.
func (c *jobContext) Deadline() (time.Time, bool) {
	return c.w.p.epoch.Add(c.deadline), true
}

// Done returns a channel that is closed when the context ends.
func (c *jobContext) Done() <-chan struct{} {
	if c.ended.Load() != live {
		return closedChan
	}
	return c.w.job.done(c)
}

// Err returns nil while the context is live, context.DeadlineExceeded once
// the deadline has passed, and context.Canceled once the pool cancelled it or
// the job returned.
func (c *jobContext) Err() error {
	if code := c.ended.Load(); code != live {
		return endErr(code)
	}
	if c.w.p.clock() < c.deadline {
		return nil
	}
	c.w.job.end(c, endedDeadline)
	return endErr(c.ended.Load())
}

// Value returns the pool for the key that marks the pool's own jobs, and nil
// for every other key: job contexts carry no values of their submitters.
func (c *jobContext) Value(key any) any {
	if key == any(poolKey{}) {
		return c.w.p
	}
	return nil
}

// String describes the context for debugging output.
func (c *jobContext) String() string { return "pool.jobContext" }

// AfterFunc arranges for f to run on its own goroutine once the context ends.
// The context package uses it, when it is present, to cancel contexts derived
// from this one without starting a goroutine per derived context.
func (c *jobContext) AfterFunc(f func()) (stop func() bool) {
	return c.w.job.afterFunc(c, f)
}
