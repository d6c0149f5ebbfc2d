package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/fxpool/fxpool/internal/servicetest"
)

// handled reports whether every accepted notification has a result and the
// pool is idle.
func handled(m servicetest.Samples) bool {
	return m[servicetest.AcceptedTotal] == m[servicetest.DeliveredTotal]+
		m[servicetest.FailedTotal]+m[servicetest.AbandonedTotal] &&
		m[servicetest.QueueDepth] == 0 && m[servicetest.ActiveWorkers] == 0
}

// stopAndWait sends SIGTERM and checks that the notifier exits 0.
func stopAndWait(t *testing.T, p *servicetest.Process) {
	t.Helper()
	p.Signal(t, syscall.SIGTERM)
	if code := p.Wait(t, exitTimeout); code != 0 {
		t.Errorf("notifier exit code = %d, want 0; stderr:\n%s", code, p.Stderr())
	}
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
