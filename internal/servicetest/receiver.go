package servicetest

import (
	"context"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"
)

// Receiver is a webhook endpoint on loopback. It answers each delivery with
// its status, 200 unless [Receiver.SetStatus] says otherwise, after a delay,
// and counts the deliveries it answered 200 by Idempotency-Key. It is safe
// for concurrent use.
type Receiver struct {
	srv     *httptest.Server
	delay   time.Duration
	started chan struct{} // closed by the first delivery to arrive

	mu        sync.Mutex
	status    int            // guarded by mu
	holdFirst time.Duration  // guarded by mu
	arrivals  int            // guarded by mu
	keys      map[string]int // deliveries answered 200 by key; guarded by mu
	count     int            // all deliveries answered 200; guarded by mu
	waiters   []waiter       // guarded by mu
}

// waiter is a channel that record closes once count reaches n.
type waiter struct {
	n  int
	ch chan struct{}
}

// NewReceiver starts a receiver that answers each delivery after delay. It is
// closed when the test ends.
func NewReceiver(tb testing.TB, delay time.Duration) *Receiver {
	tb.Helper()
	r := &Receiver{
		delay:   delay,
		started: make(chan struct{}),
		status:  http.StatusOK,
		keys:    map[string]int{},
	}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	tb.Cleanup(r.srv.Close)
	return r
}

// URL returns the receiver's base URL, http://127.0.0.1:port.
func (r *Receiver) URL() string {
	return r.srv.URL
}

// SetStatus makes the receiver answer later deliveries with code. Only
// deliveries answered 200 count as delivered.
func (r *Receiver) SetStatus(code int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.status = code
}

// HoldFirst makes the receiver hold the first delivery for d instead of its
// delay. Call it before the first delivery.
func (r *Receiver) HoldFirst(d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.holdFirst = d
}

// Started returns a channel that is closed once the first delivery arrives,
// before it is answered.
func (r *Receiver) Started() <-chan struct{} {
	return r.started
}

// CloseClientConnections closes the connections of every sender, idle ones
// included.
func (r *Receiver) CloseClientConnections() {
	r.srv.CloseClientConnections()
}

func (r *Receiver) serve(w http.ResponseWriter, req *http.Request) {
	// Reading the body lets the server notice a sender that went away,
	// which cancels the request's context.
	if _, err := io.Copy(io.Discard, req.Body); err != nil {
		return
	}
	if !sleep(req.Context(), r.arrive()) {
		return // the sender gave up: not delivered
	}

	r.mu.Lock()
	status := r.status
	r.mu.Unlock()
	if status == http.StatusOK {
		r.record(req.Header.Get("Idempotency-Key"))
	}
	w.WriteHeader(status)
}

// arrive counts an arriving delivery and returns how long to hold it.
func (r *Receiver) arrive() time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.arrivals++
	if r.arrivals > 1 {
		return r.delay
	}
	close(r.started)
	if r.holdFirst > 0 {
		return r.holdFirst
	}
	return r.delay
}

// sleep waits for d and reports whether ctx was still live at the end.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func (r *Receiver) record(key string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.keys[key]++
	r.count++
	r.waiters = slices.DeleteFunc(r.waiters, func(w waiter) bool {
		if r.count < w.n {
			return false
		}
		close(w.ch)
		return true
	})
}

// Reached returns a channel that is closed once the receiver has answered n
// deliveries with 200 in all.
func (r *Receiver) Reached(n int) <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	ch := make(chan struct{})
	if r.count >= n {
		close(ch)
		return ch
	}
	r.waiters = append(r.waiters, waiter{n: n, ch: ch})
	return ch
}

// Total returns the number of deliveries answered 200 so far.
func (r *Receiver) Total() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.count
}

// Deliveries returns a copy of the delivery count of each key.
func (r *Receiver) Deliveries() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps.Clone(r.keys)
}

// CheckDeliveredOnce checks, given the delivery count of each key, that
// every id in accepted (answered 202) was delivered exactly once and that no
// id in refused (answered 503) was delivered.
func CheckDeliveredOnce(tb testing.TB, keys map[string]int, accepted, refused []string) {
	tb.Helper()
	for _, id := range accepted {
		if keys[id] != 1 {
			tb.Errorf("deliveries of %s (answered 202) = %d, want 1", id, keys[id])
		}
	}
	for _, id := range refused {
		if keys[id] != 0 {
			tb.Errorf("deliveries of %s (answered 503) = %d, want 0", id, keys[id])
		}
	}
}
