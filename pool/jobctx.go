package pool

import (
	"context"
	"sync"
	"time"
)

// jobContext is the context of one job. It ends at the job's deadline, when
// the shutdown deadline cancels it, or when the job returns.
//
// It replaces context.WithTimeout on a shared parent, which costs a timer, a
// registration in the parent under the parent's lock, and several
// allocations per job. A jobContext is one allocation and shares no lock with
// other jobs. It arms a timer only when someone waits for it, through Done or
// by deriving a context from it; Err compares the clock with the deadline, so
// a job that only polls Err needs no timer at all.
type jobContext struct {
	pool     *WorkerPool
	deadline time.Time

	mu     sync.Mutex
	done   chan struct{} // guarded by mu; made by the first Done, closed on cancel
	err    error         // guarded by mu; set once, by cancel
	timer  *time.Timer   // guarded by mu; armed for the deadline by watch
	afters []*afterFunc  // guarded by mu; run once on cancel
}

// afterFunc is a callback registered with AfterFunc.
type afterFunc struct{ f func() }

var _ context.Context = (*jobContext)(nil)

// closedChan is returned by Done of a context cancelled before anyone asked
// for its channel.
var closedChan = func() chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}()

// Deadline returns the end of the job's timeout.
func (c *jobContext) Deadline() (time.Time, bool) { return c.deadline, true }

// Done returns a channel that is closed when the context ends.
func (c *jobContext) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done == nil {
		if c.err != nil {
			return closedChan
		}
		c.done = make(chan struct{})
		c.watchLocked()
	}
	return c.done
}

// Err returns nil while the context is live, context.DeadlineExceeded once
// the deadline has passed, and context.Canceled once the pool cancelled it or
// the job returned.
func (c *jobContext) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil && !time.Now().Before(c.deadline) {
		c.expireLocked()
	}
	return c.err
}

// Value returns the pool for the key that marks the pool's own jobs, and nil
// for every other key: job contexts carry no values of their submitters.
func (c *jobContext) Value(key any) any {
	if key == any(poolKey{}) {
		return c.pool
	}
	return nil
}

// String describes the context for debugging output.
func (c *jobContext) String() string { return "pool.jobContext" }

// AfterFunc arranges for f to run on its own goroutine once the context ends.
// The context package uses it, when it is present, to cancel contexts derived
// from this one without starting a goroutine per derived context.
func (c *jobContext) AfterFunc(f func()) (stop func() bool) {
	a := &afterFunc{f: f}
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		go f()
		return func() bool { return false }
	}
	c.afters = append(c.afters, a)
	c.watchLocked()
	c.mu.Unlock()

	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		for i, x := range c.afters {
			if x == a {
				c.afters = append(c.afters[:i], c.afters[i+1:]...)
				return true
			}
		}
		return false
	}
}

// watchLocked arms the deadline timer, once, for a context someone waits on.
func (c *jobContext) watchLocked() {
	if c.err != nil || c.timer != nil {
		return
	}
	d := time.Until(c.deadline)
	if d <= 0 {
		c.expireLocked()
		return
	}
	c.timer = time.AfterFunc(d, func() { c.cancel(context.DeadlineExceeded) })
}

func (c *jobContext) expireLocked() {
	for _, a := range c.cancelLocked(context.DeadlineExceeded) {
		go a.f()
	}
}

// cancel ends the context with err unless it has already ended.
func (c *jobContext) cancel(err error) {
	c.mu.Lock()
	afters := c.cancelLocked(err)
	c.mu.Unlock()
	for _, a := range afters {
		go a.f()
	}
}

// cancelLocked records err, closes Done and stops the timer. It returns the
// callbacks to run, which the caller starts after unlocking.
func (c *jobContext) cancelLocked(err error) []*afterFunc {
	if c.err != nil {
		return nil
	}
	c.err = err
	if c.done != nil {
		close(c.done)
	}
	if c.timer != nil {
		c.timer.Stop()
	}
	afters := c.afters
	c.afters = nil
	return afters
}
