package fxtest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/fxpool/fxpool/notification"
)

// waitLimit bounds how long [Sender.WaitSent] waits before failing the test.
// It is a safety net for a broken test, not a synchronisation device.
const waitLimit = 30 * time.Second

// Sender is a [notification.Sender] that records what it delivers. It can be
// told to fail, and to hold deliveries until released. It is safe for
// concurrent use.
type Sender struct {
	mu      sync.Mutex
	sent    []notification.Notification // guarded by mu
	calls   int                         // guarded by mu
	err     error                       // guarded by mu
	gate    chan struct{}               // guarded by mu; nil when not holding
	changed chan struct{}               // guarded by mu; closed on every call
}

var _ notification.Sender = (*Sender)(nil)

// NewSender returns a sender that succeeds at once.
func NewSender() *Sender {
	return &Sender{changed: make(chan struct{})}
}

// Send records n as delivered, or returns the error set by
// [Sender.FailWith]. While [Sender.Hold] is in effect it first waits for the
// release or for ctx, and returns ctx's error if ctx ends first.
func (s *Sender) Send(ctx context.Context, n notification.Notification) error {
	s.mu.Lock()
	gate := s.gate
	s.calls++
	s.signalLocked()
	s.mu.Unlock()

	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return &notification.DeliveryError{Attempts: 1, Err: ctx.Err()}
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.signalLocked()
	if s.err != nil {
		return s.err
	}
	s.sent = append(s.sent, n)
	return nil
}

// signalLocked wakes everyone waiting for a change.
func (s *Sender) signalLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// FailWith makes later deliveries return err; nil makes them succeed again.
func (s *Sender) FailWith(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.err = err
}

// Hold makes deliveries wait until the returned release function is called.
// Calling release more than once is safe.
func (s *Sender) Hold() (release func()) {
	gate := make(chan struct{})
	s.mu.Lock()
	s.gate = gate
	s.mu.Unlock()

	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			s.gate = nil
			s.mu.Unlock()
			close(gate)
		})
	}
}

// Sent returns the notifications delivered so far, in order.
func (s *Sender) Sent() []notification.Notification {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]notification.Notification(nil), s.sent...)
}

// WaitSent waits until at least n notifications were delivered and returns
// them. It fails tb if that takes longer than 30 seconds.
func (s *Sender) WaitSent(tb testing.TB, n int) []notification.Notification {
	tb.Helper()
	s.wait(tb, func() bool { return len(s.sent) >= n }, "deliveries", n)
	return s.Sent()
}

// WaitCalls waits until Send was called at least n times, whether or not
// those calls finished, and fails tb after 30 seconds.
func (s *Sender) WaitCalls(tb testing.TB, n int) {
	tb.Helper()
	s.wait(tb, func() bool { return s.calls >= n }, "calls", n)
}

// wait waits until done, called with s.mu held, reports true.
func (s *Sender) wait(tb testing.TB, done func() bool, what string, n int) {
	tb.Helper()
	timeout := time.NewTimer(waitLimit)
	defer timeout.Stop()
	for {
		s.mu.Lock()
		if done() {
			s.mu.Unlock()
			return
		}
		changed := s.changed
		s.mu.Unlock()

		select {
		case <-changed:
		case <-timeout.C:
			tb.Fatalf("waited %v for %d %s", waitLimit, n, what)
			return
		}
	}
}
