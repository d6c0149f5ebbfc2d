package modules_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/fx"

	"github.com/fxpool/fxpool/fxtest"
	"github.com/fxpool/fxpool/modules"
	"github.com/fxpool/fxpool/notification"
	"github.com/fxpool/fxpool/pool"
)

// started starts a test application and returns its service, server and
// metrics registry.
type started struct {
	svc      *notification.Service
	server   *modules.Server
	gatherer prometheus.Gatherer
	pool     *pool.WorkerPool
}

func (s started) url(path string) string {
	return "http://" + s.server.Addr().String() + path
}

func populate(s *started) fx.Option {
	return fx.Populate(&s.svc, &s.server, &s.gatherer, &s.pool)
}

// reply is what a test needs of a response.
type reply struct {
	StatusCode int
	Header     http.Header
}

func post(t *testing.T, url, body string) reply {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, url,
		strings.NewReader(body))
	if err != nil {
		t.Fatalf("NewRequest() error = %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s error = %v", url, err)
	}
	if err := resp.Body.Close(); err != nil {
		t.Fatalf("POST %s: close body: %v", url, err)
	}
	return reply{resp.StatusCode, resp.Header}
}

func get(t *testing.T, url string) int {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatalf("NewRequest() error = %v", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s error = %v", url, err)
	}
	if err := resp.Body.Close(); err != nil {
		t.Fatalf("GET %s: close body: %v", url, err)
	}
	return resp.StatusCode
}

func TestAppDeliversAcceptedNotification(t *testing.T) {
	t.Parallel()
	sender := fxtest.NewSender()
	var s started
	app := fxtest.New(t, fxtest.WithSender(sender), populate(&s))
	app.RequireStart()

	resp := post(t, s.url("/v1/notifications"), `{"id":"n-1","recipient":"r","body":"hello"}`)
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("POST status = %d, want 202", resp.StatusCode)
	}
	got := sender.WaitSent(t, 1)
	if got[0].ID != "n-1" || got[0].Body != "hello" {
		t.Errorf("delivered %+v, want id n-1 with body hello", got[0])
	}
	if code := get(t, s.url("/healthz")); code != http.StatusOK {
		t.Errorf("GET /healthz = %d, want 200", code)
	}
	if code := get(t, s.url("/readyz")); code != http.StatusOK {
		t.Errorf("GET /readyz = %d, want 200", code)
	}
	app.RequireStop()
}

func TestAppUsesReplacedPoolConfig(t *testing.T) {
	t.Parallel()
	var s started
	cfg := pool.Config{MaxWorkers: 3, QueueSize: 0, ShutdownTimeoutSeconds: 1, JobTimeoutSeconds: 1}
	app := fxtest.New(t, fx.Replace(cfg), populate(&s))
	app.RequireStart()
	defer app.RequireStop()

	families, err := s.gatherer.Gather()
	if err != nil {
		t.Fatalf("Gather() error = %v", err)
	}
	for _, f := range families {
		if f.GetName() == "notification_worker_pool_max_workers" {
			if got := f.GetMetric()[0].GetGauge().GetValue(); got != 3 {
				t.Errorf("max_workers = %v, want 3", got)
			}
			return
		}
	}
	t.Error("notification_worker_pool_max_workers not gathered")
}

// TestStopDrainsBeforeClosing checks the stop order a client sees: readiness
// and intake turn 503 at once, queued notifications are still delivered, and
// only then does the server close.
func TestStopDrainsBeforeClosing(t *testing.T) {
	t.Parallel()
	sender := fxtest.NewSender()
	release := sender.Hold()
	var s started
	app := fxtest.New(t, fxtest.WithSender(sender), populate(&s))
	app.RequireStart()

	for i := range 5 {
		body := fmt.Sprintf(`{"id":"n-%d","recipient":"r","body":"b"}`, i)
		if code := post(t, s.url("/v1/notifications"), body).StatusCode; code != 202 {
			t.Fatalf("POST %d status = %d, want 202", i, code)
		}
	}
	sender.WaitCalls(t, fxtest.PoolConfig().MaxWorkers)

	stopped := make(chan error, 1)
	go func() { stopped <- app.Stop(context.Background()) }()
	<-s.svc.Draining()

	if code := get(t, s.url("/readyz")); code != http.StatusServiceUnavailable {
		t.Errorf("GET /readyz while draining = %d, want 503", code)
	}
	resp := post(t, s.url("/v1/notifications"), `{"recipient":"r","body":"late"}`)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("POST while draining = %d with Retry-After %q, want 503 with Retry-After",
			resp.StatusCode, resp.Header.Get("Retry-After"))
	}

	release()
	if err := <-stopped; err != nil {
		t.Fatalf("Stop() = %v, want nil", err)
	}
	if got := len(sender.Sent()); got != 5 {
		t.Errorf("delivered %d notifications, want 5", got)
	}
}

func TestStopCutShortRecordsAbandoned(t *testing.T) {
	t.Parallel()
	sender := fxtest.NewSender()
	defer sender.Hold()()
	deadLetters := filepath.Join(t.TempDir(), "dead.jsonl")
	var s started
	app := fxtest.New(t,
		fxtest.WithSender(sender),
		fx.Replace(
			pool.Config{MaxWorkers: 1, QueueSize: 4, ShutdownTimeoutSeconds: 1, JobTimeoutSeconds: 60},
			modules.NotificationConfig{Queue: "memory", DeadLetterPath: deadLetters},
		),
		populate(&s),
	)
	app.RequireStart()

	for i := range 3 {
		n := notification.Notification{ID: fmt.Sprintf("n-%d", i), Recipient: "r", Body: "b"}
		if _, err := s.svc.Notify(context.Background(), n); err != nil {
			t.Fatalf("Notify(%s) = %v, want nil", n.ID, err)
		}
	}
	sender.WaitCalls(t, 1)

	err := app.Stop(context.Background())
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Stop() = %v, want DeadlineExceeded from the cut drain", err)
	}

	lines := readLines(t, deadLetters)
	if len(lines) != 3 {
		t.Fatalf("dead letters = %d lines, want 3: %v", len(lines), lines)
	}
	results := deliveryResults(t, s.gatherer)
	if results["abandoned"] != 2 || results["failed"] != 1 {
		t.Errorf("deliveries by result = %v, want 2 abandoned and 1 failed", results)
	}
}

func readLines(t *testing.T, path string) []notification.DeadLetter {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("Open(%s) error = %v", path, err)
	}
	defer func() { _ = f.Close() }()
	letters, skipped, err := notification.ReadDeadLetters(f)
	if err != nil || skipped != 0 {
		t.Fatalf("ReadDeadLetters(%s) = %d letters, %d skipped, %v, want none skipped",
			path, len(letters), skipped, err)
	}
	return letters
}

func deliveryResults(t *testing.T, g prometheus.Gatherer) map[string]float64 {
	t.Helper()
	families, err := g.Gather()
	if err != nil {
		t.Fatalf("Gather() error = %v", err)
	}
	out := map[string]float64{}
	for _, f := range families {
		if f.GetName() != "notification_deliveries_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			out[m.GetLabel()[0].GetValue()] = m.GetCounter().GetValue()
		}
	}
	return out
}

func TestServiceMetricsPassLint(t *testing.T) {
	t.Parallel()
	var s started
	app := fxtest.New(t, populate(&s))
	app.RequireStart()
	defer app.RequireStop()

	problems, err := testutil.GatherAndLint(s.gatherer)
	if err != nil {
		t.Fatalf("GatherAndLint() error = %v", err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
}
