package main

import (
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fxpool/fxpool/internal/servicetest"
)

// exitTimeout bounds each wait for the notifier to exit. It is generous
// because it only ends a test that has already failed.
const exitTimeout = 90 * time.Second

func TestMain(m *testing.M) {
	servicetest.Main(m)
}

// request sends one request and returns its status and Retry-After header.
func request(t *testing.T, c *http.Client, method, url, body string) (int, string, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatalf("NewRequest(%s, %s) error = %v", method, url, err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	_ = resp.Body.Close() // only the status and headers matter
	return resp.StatusCode, resp.Header.Get("Retry-After"), nil
}

// TestSIGTERMWaitsForLongDrain checks that a delivery that outlasts fx's
// default stop timeout of 15 s still completes after SIGTERM, while the
// service reports draining, and that the process then exits 0.
func TestSIGTERMWaitsForLongDrain(t *testing.T) {
	t.Parallel()
	const hold = 17 * time.Second
	recv := servicetest.NewReceiver(t, 0)
	recv.HoldFirst(hold)
	p, base := servicetest.StartNotifier(t, map[string]string{
		"NOTIFIER_WEBHOOK_URL":                 recv.URL(),
		"WORKER_POOL_SHUTDOWN_TIMEOUT_SECONDS": "40",
		"WORKER_POOL_JOB_TIMEOUT_SECONDS":      "30",
	})
	c := servicetest.NewClient()

	body := `{"id":"long-1","recipient":"r","body":"held"}`
	code, _, err := request(t, c, http.MethodPost, base+"/v1/notifications", body)
	if err != nil || code != http.StatusAccepted {
		t.Fatalf("POST /v1/notifications = %d, %v, want 202", code, err)
	}
	servicetest.WaitClosed(t, p, recv.Started(), "the first delivery")

	signalled := time.Now()
	p.Signal(t, syscall.SIGTERM)
	servicetest.WaitStatus(t, p, base+"/readyz", http.StatusServiceUnavailable)
	late := `{"id":"late-1","recipient":"r","body":"late"}`
	code, retry, err := request(t, c, http.MethodPost, base+"/v1/notifications", late)
	if err != nil || code != http.StatusServiceUnavailable || retry == "" {
		t.Errorf("POST /v1/notifications while draining = %d with Retry-After %q, %v, "+
			"want 503 with Retry-After", code, retry, err)
	}

	exit := p.Wait(t, exitTimeout)
	elapsed := time.Since(signalled)
	if exit != 0 {
		t.Errorf("notifier exit code = %d, want 0; stderr:\n%s", exit, p.Stderr())
	}
	if got := recv.Deliveries(); len(got) != 1 || got["long-1"] != 1 {
		t.Errorf("receiver deliveries = %v, want map[long-1:1]", got)
	}
	// Timing is the point here: a stop cut at fx's default would end
	// before the held delivery could.
	if elapsed <= 15*time.Second {
		t.Errorf("time from SIGTERM to exit = %v, want > 15s", elapsed)
	}
	t.Logf("time from SIGTERM to exit: %v", elapsed.Round(time.Millisecond))
}

// TestBadEnvironmentExitsNonZero checks that the process refuses a bad
// variable and names it.
func TestBadEnvironmentExitsNonZero(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		key   string
		value string
	}{
		{"max workers not a number", "WORKER_POOL_MAX_WORKERS", "abc"},
		{"unknown log level", "NOTIFIER_LOG_LEVEL", "loud"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			bin := servicetest.Build(t)
			p := servicetest.Start(t, bin, map[string]string{
				"NOTIFIER_HTTP_ADDR": servicetest.FreeAddr(t),
				tt.key:               tt.value,
			})

			exit := p.Wait(t, exitTimeout)
			if exit == 0 {
				t.Errorf("notifier with %s=%s: exit code = 0, want non-zero", tt.key, tt.value)
			}
			if stderr := p.Stderr(); !strings.Contains(stderr, tt.key) {
				t.Errorf("notifier with %s=%s: stderr = %q, want it to name %s",
					tt.key, tt.value, stderr, tt.key)
			}
		})
	}
}

func TestUnknownArgumentPrintsUsage(t *testing.T) {
	t.Parallel()
	bin := servicetest.Build(t)
	addr := servicetest.FreeAddr(t)
	p := servicetest.Start(t, bin, map[string]string{"NOTIFIER_HTTP_ADDR": addr}, "replya")

	if exit := p.Wait(t, exitTimeout); exit != 2 {
		t.Errorf("notifier replya: exit code = %d, want 2", exit)
	}
	if stderr := p.Stderr(); !strings.Contains(stderr, "usage:") {
		t.Errorf("notifier replya: stderr = %q, want the usage", stderr)
	}
}
