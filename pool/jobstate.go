package pool

import (
	"sync"
	"sync/atomic"
	"time"
)

// jobState holds what waiting on the context of a worker's current job needs:
// the Done channel, callbacks and a timer. It is reused from job to job.
//
// A job whose context nobody waits on never takes the lock: finish sees
// touched false and returns. Whoever waits sets touched under the lock and
// then reads the context's ended; finish sets ended and then reads touched.
// So either the waiter sees the context ended and leaves the state alone, or
// finish sees touched and tidies up under the lock.
type jobState struct {
	p       *WorkerPool
	touched atomic.Bool // set under mu by waiters and by end; cleared by finish

	mu     sync.Mutex
	ch     chan struct{} // guarded by mu; made by the first Done of a job
	afters []*afterFunc  // guarded by mu; run when the context ends
	timer  *time.Timer   // guarded by mu; made once, armed by watchLocked
	armed  *jobContext   // guarded by mu; the context the timer is set for
}

// afterFunc is a callback registered with AfterFunc.
type afterFunc struct{ f func() }

func (s *jobState) done(c *jobContext) <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.touched.Store(true)
	if c.ended.Load() != live {
		return closedChan
	}
	if s.ch == nil {
		s.ch = make(chan struct{})
		s.watchLocked(c)
	}
	return s.ch
}

func (s *jobState) afterFunc(c *jobContext, f func()) (stop func() bool) {
	a := &afterFunc{f: f}
	s.mu.Lock()
	s.touched.Store(true)
	if c.ended.Load() != live {
		s.mu.Unlock()
		go f()
		return func() bool { return false }
	}
	s.afters = append(s.afters, a)
	s.watchLocked(c)
	s.mu.Unlock()

	return func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		if c.ended.Load() != live {
			return false
		}
		for i, x := range s.afters {
			if x == a {
				s.afters = append(s.afters[:i], s.afters[i+1:]...)
				return true
			}
		}
		return false
	}
}

// end ends c with code, unless it has ended, for a cause other than its job
// returning: the deadline or the pool's cancellation.
func (s *jobState) end(c *jobContext, code uint32) {
	s.mu.Lock()
	s.touched.Store(true)
	var afters []*afterFunc
	if c.ended.Load() == live && c.ended.CompareAndSwap(live, code) {
		afters = s.releaseLocked()
	}
	s.mu.Unlock()
	runAfters(afters)
}

// finish ends c because its job returned at now, marks it returned, and
// readies the state for the next job. Only the worker calls it. It reports
// whether the context ended by its deadline.
func (s *jobState) finish(c *jobContext, now time.Duration) (timedOut bool) {
	code := endedCanceled
	if now >= c.deadline {
		code = endedDeadline
	}
	won := c.ended.CompareAndSwap(live, code|returned)
	if !won {
		c.ended.Or(returned) // it ended earlier, and keeps that ending
	}

	if s.touched.Load() {
		s.mu.Lock()
		var afters []*afterFunc
		if won {
			afters = s.releaseLocked()
		}
		s.ch = nil
		s.afters = nil
		s.armed = nil
		s.touched.Store(false)
		s.mu.Unlock()
		runAfters(afters)
	}
	return c.ended.Load()&^returned == endedDeadline
}

// releaseLocked wakes everyone waiting on the context that just ended: it
// closes Done and disarms the timer, and returns the callbacks, which the
// caller starts after unlocking.
func (s *jobState) releaseLocked() []*afterFunc {
	if s.ch != nil {
		close(s.ch)
		s.ch = closedChan // a later Done of this job finds it closed
	}
	if s.armed != nil {
		s.timer.Stop()
		s.armed = nil
	}
	afters := s.afters
	s.afters = nil
	return afters
}

// watchLocked arms the timer for c's deadline, once per job.
func (s *jobState) watchLocked(c *jobContext) {
	if s.armed != nil {
		return
	}
	d := c.deadline - s.p.clock()
	if d <= 0 {
		if c.ended.CompareAndSwap(live, endedDeadline) {
			runAfters(s.releaseLocked())
		}
		return
	}
	if s.timer == nil {
		s.timer = time.AfterFunc(d, s.fire)
	} else {
		s.timer.Reset(d)
	}
	s.armed = c
}

// fire is the timer's callback. A timer that was disarmed, or re-armed for a
// later job, while this call was on its way finds nothing to do.
func (s *jobState) fire() {
	s.mu.Lock()
	c := s.armed
	var afters []*afterFunc
	if c != nil && s.p.clock() >= c.deadline && c.ended.CompareAndSwap(live, endedDeadline) {
		afters = s.releaseLocked()
	}
	s.mu.Unlock()
	runAfters(afters)
}

func runAfters(afters []*afterFunc) {
	for _, a := range afters {
		go a.f()
	}
}
