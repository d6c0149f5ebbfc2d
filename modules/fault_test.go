package modules_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/fx"

	"github.com/fxpool/fxpool/fxtest"
	"github.com/fxpool/fxpool/modules"
	"github.com/fxpool/fxpool/notification"
	"github.com/fxpool/fxpool/pool"
)

// hugeBody is the size of the response body that the huge faults send: far
// more than the sender reads of a response.
const hugeBody = 50 << 20

// fault answers one delivery attempt; attempt counts from 1 for each
// Idempotency-Key. It reports whether it answered with a 2xx status.
type fault func(w http.ResponseWriter, r *http.Request, attempt int) bool

// faultReceiver is a webhook endpoint that answers every attempt with its
// fault, and records when each attempt arrived and which keys it answered
// with a 2xx. It is safe for concurrent use.
type faultReceiver struct {
	srv       *httptest.Server
	fault     fault
	mu        sync.Mutex
	attempts  map[string][]time.Time // arrival of each attempt by key; guarded by mu
	delivered []string               // keys answered 2xx; guarded by mu
}

// newFaultReceiver starts a receiver on loopback, closed when the test ends.
func newFaultReceiver(t *testing.T, f fault) *faultReceiver {
	t.Helper()
	r := &faultReceiver{fault: f, attempts: map[string][]time.Time{}}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(func() {
		// Close waits for handlers; closing the connections first ends
		// the context of any that still hang.
		r.srv.CloseClientConnections()
		r.srv.Close()
	})
	return r
}

func (fr *faultReceiver) serve(w http.ResponseWriter, r *http.Request) {
	// The server notices that the sender went away, and ends r's context,
	// only once the body has been read.
	if _, err := io.Copy(io.Discard, r.Body); err != nil {
		return
	}
	key := r.Header.Get("Idempotency-Key")
	fr.mu.Lock()
	fr.attempts[key] = append(fr.attempts[key], time.Now())
	attempt := len(fr.attempts[key])
	fr.mu.Unlock()

	if fr.fault(w, r, attempt) {
		fr.mu.Lock()
		fr.delivered = append(fr.delivered, key)
		fr.mu.Unlock()
	}
}

// status answers with code and the headers in kv pairs.
func status(code int, kv ...string) fault {
	return func(w http.ResponseWriter, _ *http.Request, _ int) bool {
		for i := 0; i+1 < len(kv); i += 2 {
			w.Header().Set(kv[i], kv[i+1])
		}
		w.WriteHeader(code)
		return code < 300
	}
}

// firstThen answers the first attempt of each key with first, and the
// others with then.
func firstThen(first, then fault) fault {
	return func(w http.ResponseWriter, r *http.Request, attempt int) bool {
		if attempt == 1 {
			return first(w, r, attempt)
		}
		return then(w, r, attempt)
	}
}

// hang never answers; it returns when the sender gives up.
func hang(_ http.ResponseWriter, r *http.Request, _ int) bool {
	<-r.Context().Done()
	return false
}

// reset closes the connection with a TCP RST instead of answering.
func reset(w http.ResponseWriter, _ *http.Request, _ int) bool {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(err) // httptest's HTTP/1 server always hijacks
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0) // close with RST, not FIN
	}
	_ = conn.Close()
	return false
}

// slow answers 200 after d, which is the scenario rather than a wait for
// something to happen.
func slow(d time.Duration) fault {
	return func(w http.ResponseWriter, r *http.Request, _ int) bool {
		timer := time.NewTimer(d)
		defer timer.Stop()
		select {
		case <-timer.C:
			w.WriteHeader(http.StatusOK)
			return true
		case <-r.Context().Done():
			return false
		}
	}
}

// huge answers code with a body of hugeBody zero bytes, or as much of it as
// the sender reads before closing the connection.
func huge(code int) fault {
	return func(w http.ResponseWriter, _ *http.Request, _ int) bool {
		w.WriteHeader(code)
		_, _ = io.CopyN(w, zeros{}, hugeBody)
		return code < 300
	}
}

// zeros reads as an endless stream of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// faultWant is what a fault test expects of the service.
type faultWant struct {
	delivered bool          // all delivered, or else all dead-lettered
	least     int           // attempts per key, at least
	most      int           // attempts per key, at most; 0: no bound
	reasons   []string      // each dead letter's reason contains one of these
	gap       time.Duration // least time between two attempts of a key
}

// deliveredAfter expects every notification delivered after least to most
// attempts.
func deliveredAfter(least, most int) faultWant {
	return faultWant{delivered: true, least: least, most: most}
}

// failedAfter expects every notification dead-lettered after least to most
// attempts, most 0 meaning any number, for one of reasons.
func failedAfter(least, most int, reasons ...string) faultWant {
	return faultWant{least: least, most: most, reasons: reasons}
}

// TestFaultyReceiver sends four notifications to a receiver that misbehaves
// in one way, stops the app, and checks what the service did and that every
// accepted notification was delivered or written as a dead letter.
func TestFaultyReceiver(t *testing.T) {
	t.Parallel()
	retryAfter := deliveredAfter(2, 2)
	retryAfter.gap = time.Second
	tests := []struct {
		name       string
		fault      fault
		jobTimeout int // seconds
		want       faultWant
	}{
		{"500", status(500), 1, failedAfter(2, 0, "last status 500")},
		{"503", status(503), 1, failedAfter(2, 0, "last status 503")},
		{"400 is final", status(400), 1, failedAfter(1, 1, "last status 400")},
		{
			"429 with retry-after",
			firstThen(status(429, "Retry-After", "1"), status(200)), 5, retryAfter,
		},
		{
			"429 with retry-after past deadline",
			status(429, "Retry-After", "120"), 5, failedAfter(1, 1, "before next attempt"),
		},
		{"hang", hang, 1, failedAfter(1, 0, "deadline exceeded")},
		{"connection reset", reset, 1, failedAfter(2, 0, "connection reset", "EOF")},
		{"slow", slow(300 * time.Millisecond), 5, deliveredAfter(1, 1)},
		{"huge body 200", huge(200), 5, deliveredAfter(1, 1)},
		{"huge body 500", huge(500), 1, failedAfter(2, 0, "last status 500")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			recv := newFaultReceiver(t, tt.fault)
			s, dead := startWithWebhook(t, recv.srv.URL, tt.jobTimeout)
			ids := []string{"n-1", "n-2", "n-3", "n-4"}
			postIDs(t, s.started, ids...)
			s.app.RequireStop()

			letters := readLines(t, dead)
			o := recv.outcome(letters, checkAccounting(t, s.gatherer, letters))
			o.check(t, ids, tt.want)
			t.Logf("attempts by key %v; deliveries by result %v; dead letters' reasons %q",
				o.attempts, o.results, o.reasons())
		})
	}
}

// app is a started test application and its stop.
type app struct {
	started
	app interface{ RequireStop() }
}

// startWithWebhook starts an app of two workers that delivers to url with
// the given job timeout and writes dead letters to a file, whose path it
// returns.
func startWithWebhook(t *testing.T, url string, jobTimeout int) (app, string) {
	t.Helper()
	dead := filepath.Join(t.TempDir(), "dead.jsonl")
	var s started
	a := fxtest.New(t,
		fx.Replace(
			pool.Config{
				MaxWorkers:             2,
				QueueSize:              8,
				ShutdownTimeoutSeconds: 20,
				JobTimeoutSeconds:      jobTimeout,
			},
			modules.NotificationConfig{Queue: "memory", WebhookURL: url, DeadLetterPath: dead},
		),
		populate(&s),
	)
	a.RequireStart()
	return app{s, a}, dead
}

// faultOutcome is what a fault test saw once its app stopped.
type faultOutcome struct {
	letters   []notification.DeadLetter
	results   map[string]float64     // deliveries by result
	delivered []string               // keys the receiver answered 2xx, sorted
	attempts  map[string]int         // attempts by key
	arrivals  map[string][]time.Time // when each attempt arrived, by key
}

// outcome returns what the receiver saw, with the dead letters and the
// deliveries by result.
func (fr *faultReceiver) outcome(
	letters []notification.DeadLetter,
	results map[string]float64,
) faultOutcome {
	fr.mu.Lock()
	defer fr.mu.Unlock()
	o := faultOutcome{
		letters:   letters,
		results:   results,
		delivered: slices.Sorted(slices.Values(fr.delivered)),
		attempts:  map[string]int{},
		arrivals:  map[string][]time.Time{},
	}
	for k, at := range fr.attempts {
		o.attempts[k] = len(at)
		o.arrivals[k] = slices.Clone(at)
	}
	return o
}

// check checks that either every notification reached the receiver and was
// counted delivered, or none was and each is a dead letter, and then the
// attempts and reasons against want.
func (o faultOutcome) check(t *testing.T, ids []string, want faultWant) {
	t.Helper()
	wantDelivered, wantDead := ids, []string(nil)
	if !want.delivered {
		wantDelivered, wantDead = nil, ids
	}
	if !slices.Equal(o.delivered, wantDelivered) {
		t.Errorf("receiver answered 2xx to %v, want %v", o.delivered, wantDelivered)
	}
	if dead := slices.Sorted(slices.Values(idsOf(o.letters))); !slices.Equal(dead, wantDead) {
		t.Errorf("dead letters = %v, want %v", dead, wantDead)
	}
	if o.results["delivered"] != float64(len(wantDelivered)) ||
		o.results["failed"] != float64(len(wantDead)) {
		t.Errorf("deliveries by result = %v, want %d delivered and %d failed",
			o.results, len(wantDelivered), len(wantDead))
	}

	for _, id := range ids {
		checkAttempts(t, id, o.arrivals[id], want)
	}
	checkReasons(t, o.letters, want.reasons)
}

// reasons returns the distinct reasons of the dead letters.
func (o faultOutcome) reasons() []string {
	var out []string
	for _, l := range o.letters {
		if !slices.Contains(out, l.Reason) {
			out = append(out, l.Reason)
		}
	}
	return out
}

// checkAttempts checks how often id reached the receiver and, when want.gap
// is set, that its retries came at least that far apart.
func checkAttempts(t *testing.T, id string, arrivals []time.Time, want faultWant) {
	t.Helper()
	if n := len(arrivals); n < want.least || (want.most > 0 && n > want.most) {
		t.Errorf("attempts of %s = %d, want %d to %d (0: any)", id, n, want.least, want.most)
	}
	for i := 1; i < len(arrivals) && want.gap > 0; i++ {
		// Allow for the receiver reading its clock a little later for the
		// first attempt than the sender did.
		if d := arrivals[i].Sub(arrivals[i-1]); d < want.gap-50*time.Millisecond {
			t.Errorf("attempt %d of %s came %v after the one before, want >= %v",
				i+1, id, d, want.gap)
		}
	}
}

// checkReasons checks that each dead letter's reason contains one of want.
func checkReasons(t *testing.T, letters []notification.DeadLetter, want []string) {
	t.Helper()
	for _, l := range letters {
		has := func(w string) bool { return strings.Contains(l.Reason, w) }
		if !slices.ContainsFunc(want, has) {
			t.Errorf("dead letter %s reason = %q, want one of %q",
				l.Notification.ID, l.Reason, want)
		}
	}
}

// TestPanickingSenderIsDeadLettered checks that a sender that panics costs
// neither the process nor the notification: each is a dead letter, the
// panics are counted as pool errors, and other deliveries go on.
func TestPanickingSenderIsDeadLettered(t *testing.T) {
	t.Parallel()
	ok := fxtest.NewSender()
	sender := senderFunc(func(ctx context.Context, n notification.Notification) error {
		if strings.HasPrefix(n.ID, "panic-") {
			panic("sender bug")
		}
		return ok.Send(ctx, n)
	})
	dead := filepath.Join(t.TempDir(), "dead.jsonl")
	var s started
	a := fxtest.New(t,
		fxtest.WithSender(sender),
		fx.Replace(modules.NotificationConfig{Queue: "memory", DeadLetterPath: dead}),
		populate(&s),
	)
	a.RequireStart()

	postIDs(t, s, "panic-1", "panic-2", "panic-3", "ok-1")
	ok.WaitSent(t, 1)
	if code := get(t, s.url("/healthz")); code != http.StatusOK {
		t.Errorf("GET /healthz after panics = %d, want 200", code)
	}
	postIDs(t, s, "ok-2")
	ok.WaitSent(t, 2)
	a.RequireStop()

	letters := readLines(t, dead)
	results := checkAccounting(t, s.gatherer, letters)
	if got := slices.Sorted(slices.Values(idsOf(letters))); !slices.Equal(got,
		[]string{"panic-1", "panic-2", "panic-3"}) {
		t.Errorf("dead letters = %v, want panic-1, panic-2, panic-3", got)
	}
	checkReasons(t, letters, []string{"sender panicked"})
	if results["delivered"] != 2 || results["failed"] != 3 {
		t.Errorf("deliveries by result = %v, want 2 delivered and 3 failed", results)
	}
	if got := counter(t, s.gatherer, "notification_worker_pool_errors_total"); got != 3 {
		t.Errorf("notification_worker_pool_errors_total = %v, want 3", got)
	}
}
