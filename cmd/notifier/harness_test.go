package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Modes of a sink: how it answers deliveries.
const (
	sinkAccept int32 = iota // 200
	sinkReject              // 400, a final answer
)

// sink is a webhook endpoint that answers each delivery according to its
// mode, after an optional delay, and counts the deliveries it answered 200
// by Idempotency-Key. It is safe for concurrent use.
type sink struct {
	srv   *httptest.Server
	delay time.Duration
	mode  atomic.Int32

	// inspect, when not nil, is called with every request before it is
	// answered. Set it before the first delivery.
	inspect func(*http.Request, []byte)

	mu      sync.Mutex
	keys    map[string]int // deliveries answered 200 by key; guarded by mu
	count   int            // all deliveries answered 200; guarded by mu
	waiters []waiter       // guarded by mu
}

// waiter is a channel that record closes once count reaches n.
type waiter struct {
	n  int
	ch chan struct{}
}

// newSink starts a sink on loopback that answers after delay. It is closed
// when the test ends.
func newSink(t *testing.T, delay time.Duration) *sink {
	t.Helper()
	s := &sink{delay: delay, keys: map[string]int{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *sink) serve(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return
	}
	if s.inspect != nil {
		s.inspect(req, body)
	}
	if s.delay > 0 {
		timer := time.NewTimer(s.delay)
		defer timer.Stop()
		select {
		case <-timer.C:
		case <-req.Context().Done():
			return // the sender gave up: not delivered
		}
	}

	if s.mode.Load() == sinkReject {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	s.record(req.Header.Get("Idempotency-Key"))
	w.WriteHeader(http.StatusOK)
}

func (s *sink) record(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys[key]++
	s.count++
	s.waiters = slices.DeleteFunc(s.waiters, func(w waiter) bool {
		if s.count < w.n {
			return false
		}
		close(w.ch)
		return true
	})
}

// reached returns a channel that is closed once the sink has answered n
// deliveries with 200 in all.
func (s *sink) reached(n int) <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := make(chan struct{})
	if s.count >= n {
		close(ch)
		return ch
	}
	s.waiters = append(s.waiters, waiter{n: n, ch: ch})
	return ch
}

// deliveries returns a copy of the delivery count of each key.
func (s *sink) deliveries() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.keys))
	for k, n := range s.keys {
		out[k] = n
	}
	return out
}

// waitClosed waits until ch is closed, or fails the test after readyTimeout
// or when the process exits.
func waitClosed(t *testing.T, p *process, ch <-chan struct{}, what string) {
	t.Helper()
	timer := time.NewTimer(readyTimeout)
	defer timer.Stop()
	select {
	case <-ch:
	case <-p.done:
		t.Fatalf("notifier exited while waiting for %s", what)
	case <-timer.C:
		t.Fatalf("still waiting for %s after %v", what, readyTimeout)
	}
}

// metrics returns the notifier's metrics, each series (name and labels as
// written) mapped to its value.
func metrics(t *testing.T, c *http.Client, base string) (map[string]float64, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, base+"/metrics", nil)
	if err != nil {
		t.Fatalf("NewRequest(GET /metrics) error = %v", err)
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /metrics = %d", resp.StatusCode)
	}

	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		i := strings.LastIndexByte(line, ' ')
		if i < 0 || strings.HasPrefix(line, "#") {
			continue
		}
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			out[line[:i]] = v
		}
	}
	return out, sc.Err()
}

// Series that the tests read.
const (
	acceptedTotal  = `notification_accepted_total`
	deliveredTotal = `notification_deliveries_total{result="delivered"}`
	failedTotal    = `notification_deliveries_total{result="failed"}`
	abandonedTotal = `notification_deliveries_total{result="abandoned"}`
	queueFullTotal = `notification_rejected_total{reason="queue_full"}`
	queueDepth     = `notification_worker_pool_queue_depth`
	activeWorkers  = `notification_worker_pool_active_workers`
	goroutines     = `go_goroutines`
)

// pollMetrics scrapes /metrics every pollInterval until done accepts them,
// and returns them. It fails the test after limit or when the process exits.
func pollMetrics(
	t *testing.T,
	p *process,
	base string,
	limit time.Duration,
	done func(map[string]float64) bool,
) map[string]float64 {
	t.Helper()
	c := newClient()
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()
	for {
		m, err := metrics(t, c, base)
		if err == nil && done(m) {
			return m
		}
		select {
		case <-tick.C:
		case <-p.done:
			t.Fatalf("notifier exited while polling /metrics")
		case <-deadline.C:
			t.Fatalf("/metrics after %v: %v, %v; the condition still fails", limit,
				pick(m, acceptedTotal, deliveredTotal, failedTotal, abandonedTotal, queueDepth,
					activeWorkers, goroutines), err)
		}
	}
}

// pick returns the given series of m.
func pick(m map[string]float64, names ...string) map[string]float64 {
	out := map[string]float64{}
	for _, n := range names {
		out[n] = m[n]
	}
	return out
}

// handled reports whether every accepted notification has a result and the
// pool is idle.
func handled(m map[string]float64) bool {
	return m[acceptedTotal] == m[deliveredTotal]+m[failedTotal]+m[abandonedTotal] &&
		m[queueDepth] == 0 && m[activeWorkers] == 0
}

// countDeadLetters returns the number of lines in the dead-letter file at
// path; a missing file has none.
func countDeadLetters(t *testing.T, path string) int {
	t.Helper()
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return 0
	}
	if err != nil {
		t.Fatalf("ReadFile(%s) error = %v", path, err)
	}
	return bytes.Count(data, []byte("\n"))
}

// post sends a notification with id and the bearer token, when not empty,
// and returns the status and the body.
func post(t *testing.T, c *http.Client, base, token, id string) (int, string) {
	t.Helper()
	body := fmt.Sprintf(`{"id":%q,"recipient":"r","body":"b"}`, id)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost,
		base+"/v1/notifications", strings.NewReader(body))
	if err != nil {
		t.Fatalf("NewRequest() error = %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("POST %s error = %v", id, err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("POST %s: read body: %v", id, err)
	}
	return resp.StatusCode, string(b)
}

// peakRSS returns the peak resident set size of process pid, VmHWM in
// /proc/pid/status, in bytes.
func peakRSS(t *testing.T, pid int) int64 {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("read /proc/%d/status: %v", pid, err)
	}
	for line := range strings.Lines(string(data)) {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatalf("VmHWM line %q: %v", line, err)
			}
			return kb << 10
		}
	}
	t.Fatalf("/proc/%d/status has no VmHWM", pid)
	return 0
}
