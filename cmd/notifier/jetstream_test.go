package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/fxpool/fxpool/internal/servicetest"
)

// Bounds of the JetStream tests. deliverTimeout only ends a test that has
// already failed; it allows for AckWait, three seconds with one-second job
// timeouts, to pass a few times.
const (
	deliverTimeout = 60 * time.Second
	jobTimeout     = "1"
)

// hookReceiver is a webhook endpoint for several replicas: each posts to its
// own path, so the receiver knows which replica sent what. A delivery counts
// as done only when the receiver answered it.
type hookReceiver struct {
	srv   *httptest.Server
	delay time.Duration // how long each answer waits

	mu      sync.Mutex
	holds   map[string]chan struct{}  // guarded by mu; path ("" for all): answers wait for it
	arrived map[string]map[string]int // guarded by mu; path, then key: requests
	held    map[string]int            // guarded by mu; path: requests waiting for a hold
	done    map[string]int            // guarded by mu; key: answered deliveries
	changed chan struct{}             // guarded by mu; closed on every change
}

func newHookReceiver(t *testing.T, delay time.Duration) *hookReceiver {
	t.Helper()
	r := &hookReceiver{
		delay:   delay,
		holds:   map[string]chan struct{}{},
		arrived: map[string]map[string]int{},
		held:    map[string]int{},
		done:    map[string]int{},
		changed: make(chan struct{}),
	}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *hookReceiver) serve(w http.ResponseWriter, req *http.Request) {
	// Reading the body lets the server notice a sender that went away,
	// which cancels the request's context.
	_, _ = io.Copy(io.Discard, req.Body)
	path, key := req.URL.Path, req.Header.Get("Idempotency-Key")
	r.mu.Lock()
	if r.arrived[path] == nil {
		r.arrived[path] = map[string]int{}
	}
	r.arrived[path][key]++
	r.signalLocked()
	r.mu.Unlock()

	timer := time.NewTimer(r.delay)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-req.Context().Done():
		return // the replica went away: not delivered
	}
	if !r.waitHold(req.Context(), path) {
		return
	}

	r.mu.Lock()
	r.done[key]++
	r.signalLocked()
	r.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

// waitHold waits for the hold on path, if there is one, and reports whether
// the request may be answered.
func (r *hookReceiver) waitHold(ctx context.Context, path string) bool {
	r.mu.Lock()
	hold := r.holds[path]
	if hold == nil {
		hold = r.holds[""]
	}
	if hold == nil {
		r.mu.Unlock()
		return true
	}
	r.held[path]++
	r.signalLocked()
	r.mu.Unlock()

	defer func() {
		r.mu.Lock()
		r.held[path]--
		r.signalLocked()
		r.mu.Unlock()
	}()
	select {
	case <-hold:
		return true
	case <-ctx.Done():
		return false
	}
}

func (r *hookReceiver) signalLocked() {
	close(r.changed)
	r.changed = make(chan struct{})
}

// hold makes answers to requests on path, or on every path for "", wait
// until release is called. Calling release more than once is safe.
func (r *hookReceiver) hold(path string) (release func()) {
	hold := make(chan struct{})
	r.mu.Lock()
	r.holds[path] = hold
	r.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			r.mu.Lock()
			delete(r.holds, path)
			r.mu.Unlock()
			close(hold)
		})
	}
}

// waitUntil waits until cond, called with r.mu held, reports true.
func (r *hookReceiver) waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	timer := time.NewTimer(deliverTimeout)
	defer timer.Stop()
	for {
		r.mu.Lock()
		ok := cond()
		changed := r.changed
		r.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-changed:
		case <-timer.C:
			t.Fatalf("waited %v for %s", deliverTimeout, what)
		}
	}
}

// waitDelivered waits until every key in keys was answered.
func (r *hookReceiver) waitDelivered(t *testing.T, keys []string) {
	t.Helper()
	r.waitUntil(t, fmt.Sprintf("%d deliveries", len(keys)), func() bool {
		for _, k := range keys {
			if r.done[k] == 0 {
				return false
			}
		}
		return true
	})
}

// snapshot returns copies of the arrivals by path and key and of the
// answers by key.
func (r *hookReceiver) snapshot() (arrived map[string]map[string]int, done map[string]int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	arrived = map[string]map[string]int{}
	for path, keys := range r.arrived {
		arrived[path] = maps.Clone(keys)
	}
	return arrived, maps.Clone(r.done)
}

// natsServer returns a nats-server to run as a separate process: the one in
// PATH if there is one (CI installs Debian's), or else one built from the
// nats-server module this repository already requires, so that a machine
// with only Go runs the test too.
func natsServer(t *testing.T) string {
	t.Helper()
	if bin, err := exec.LookPath("nats-server"); err == nil {
		return bin
	}
	return servicetest.BuildPackage(t, "github.com/nats-io/nats-server/v2")
}

// startNATSServer starts a nats-server with JetStream on a loopback port,
// storing under a fresh directory, and returns its URL. It is killed when the
// test ends.
func startNATSServer(t *testing.T) string {
	t.Helper()
	addr := servicetest.FreeAddr(t)
	host, port, _ := net.SplitHostPort(addr)
	args := []string{"-a", host, "-p", port, "-js", "-sd", t.TempDir()}
	p := servicetest.Start(t, natsServer(t), nil, args...)

	servicetest.Poll(t, p, servicetest.WaitTimeout, func() error {
		conn, err := (&net.Dialer{Timeout: time.Second}).DialContext(t.Context(), "tcp", addr)
		if err != nil {
			return fmt.Errorf("nats-server not listening on %s: %w", addr, err)
		}
		_ = conn.Close()
		return nil
	})
	return "nats://" + addr
}

// startNATSReplica starts a notifier in nats mode with env on top, and waits
// until it is ready. It returns the process and its base URL.
func startNATSReplica(t *testing.T, env map[string]string) (*servicetest.Process, string) {
	t.Helper()
	full := map[string]string{
		"NOTIFIER_QUEUE":                  "nats",
		"WORKER_POOL_MAX_WORKERS":         "4",
		"WORKER_POOL_JOB_TIMEOUT_SECONDS": jobTimeout,
	}
	maps.Copy(full, env)
	return servicetest.StartNotifier(t, full)
}

// postSpread posts a notification for each key, spread over bases in turn
// from a few clients at once, and fails the test unless every one gets 202.
func postSpread(t *testing.T, keys []string, bases ...string) {
	t.Helper()
	const clients = 4
	var wg sync.WaitGroup
	errs := make(chan error, len(keys))
	for c := range clients {
		wg.Go(func() {
			client := servicetest.NewClient()
			for i := c; i < len(keys); i += clients {
				body := fmt.Sprintf(`{"id":%q,"recipient":"r","body":"b"}`, keys[i])
				url := bases[i%len(bases)] + "/v1/notifications"
				code, _, err := request(t, client, http.MethodPost, url, body)
				switch {
				case err != nil:
					errs <- fmt.Errorf("POST %s to %s: %w", keys[i], url, err)
				case code != http.StatusAccepted:
					errs <- fmt.Errorf("POST %s to %s = %d, want 202", keys[i], url, code)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// Series of the shared consumer that waitConsumerIdle reads.
const (
	pendingMessages    = "notification_jetstream_consumer_pending_messages"
	ackPendingMessages = "notification_jetstream_consumer_ack_pending_messages"
)

// waitConsumerIdle polls a replica's metrics until the shared consumer has
// no message left to deliver or to acknowledge.
func waitConsumerIdle(t *testing.T, base string) {
	t.Helper()
	servicetest.Poll(t, nil, deliverTimeout, func() error {
		m, err := servicetest.Metrics(t, base)
		if err != nil {
			t.Fatalf("GET /metrics error = %v", err)
		}
		pending, ok := m[pendingMessages]
		ackPending, ackOK := m[ackPendingMessages]
		if !ok || !ackOK || pending != 0 || ackPending != 0 {
			return fmt.Errorf("consumer not idle: %s = %v (present %v), %s = %v (present %v)",
				pendingMessages, pending, ok, ackPendingMessages, ackPending, ackOK)
		}
		return nil
	})
}

func numberedKeys(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%03d", prefix, i)
	}
	return out
}

// TestReplicaKilledMidwayLosesNothing runs two replicas against one NATS
// server, kills one with SIGKILL while both deliver, and checks that every
// accepted notification reaches the receiver, and that only those the killed
// replica had in flight reach it twice.
func TestReplicaKilledMidwayLosesNothing(t *testing.T) {
	t.Parallel()
	const (
		total   = 300
		workers = 4 // WORKER_POOL_MAX_WORKERS of each replica
	)
	url := startNATSServer(t)
	recv := newHookReceiver(t, 50*time.Millisecond)
	a, baseA := startNATSReplica(t, map[string]string{
		"NOTIFIER_NATS_URL": url, "NOTIFIER_WEBHOOK_URL": recv.srv.URL + "/a",
	})
	b, baseB := startNATSReplica(t, map[string]string{
		"NOTIFIER_NATS_URL": url, "NOTIFIER_WEBHOOK_URL": recv.srv.URL + "/b",
	})

	all := numberedKeys("n", total)
	postSpread(t, all, baseA, baseB)
	recv.waitUntil(t, "a third delivered", func() bool { return len(recv.done) >= total/3 })
	// From now on A's deliveries reach the receiver and get no answer:
	// the kill finds them in flight.
	defer recv.hold("/a")()
	recv.waitUntil(t, "A to wait for an answer", func() bool { return recv.held["/a"] > 0 })
	a.Signal(t, os.Kill)
	a.Wait(t, exitTimeout)
	killed := time.Now()

	recv.waitDelivered(t, all)
	// A delivery that A finished but never acknowledged is delivered again
	// once AckWait passes: wait until the stream holds nothing.
	waitConsumerIdle(t, baseB)
	t.Logf("all delivered %v after the kill", time.Since(killed).Round(time.Millisecond))
	stopAndWait(t, b)

	arrived, done := recv.snapshot()
	repeated := 0
	for _, k := range all {
		byA, byB := arrived["/a"][k], arrived["/b"][k]
		if byA+byB <= 1 {
			continue
		}
		repeated++
		if byA == 0 || byB > 1 || byA > 1 {
			t.Errorf("%s reached the receiver %d times from A and %d from B, "+
				"want a repeat only of what A had in flight", k, byA, byB)
		}
	}
	if repeated < 1 || repeated > workers {
		t.Errorf("%d notifications repeated, want 1 to %d: those A had in flight",
			repeated, workers)
	}
	if len(arrived["/a"]) == 0 || len(arrived["/b"]) == 0 {
		t.Errorf("replica A sent %d and B %d, want both to share the work",
			len(arrived["/a"]), len(arrived["/b"]))
	}
	if len(done) != total {
		t.Errorf("receiver answered %d keys, want %d", len(done), total)
	}
	t.Logf("A sent %d, B sent %d, repeated %d", len(arrived["/a"]), len(arrived["/b"]), repeated)
}

// TestEmbeddedServerSurvivesKill accepts notifications in embedded mode,
// kills the process with SIGKILL before any delivery completes, and
// restarts it on the same store: every accepted notification is delivered.
func TestEmbeddedServerSurvivesKill(t *testing.T) {
	t.Parallel()
	const total = 20
	recv := newHookReceiver(t, 0)
	release := recv.hold("")
	defer release()
	env := map[string]string{
		"NOTIFIER_NATS_STORE_DIR": t.TempDir(),
		"NOTIFIER_WEBHOOK_URL":    recv.srv.URL + "/hook",
	}
	first, base := startNATSReplica(t, env)

	all := numberedKeys("kept", total)
	postSpread(t, all, base)
	recv.waitUntil(t, "a delivery to start", func() bool { return len(recv.arrived) > 0 })
	first.Signal(t, os.Kill)
	first.Wait(t, exitTimeout)
	if _, done := recv.snapshot(); len(done) != 0 {
		t.Fatalf("receiver answered %v before the kill, want nothing", done)
	}

	release()
	second, _ := startNATSReplica(t, env)
	recv.waitDelivered(t, all)
	stopAndWait(t, second)
}
