package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// Bounds of the waits in these tests. They are generous because they only
// end a test that has already failed.
const (
	buildTimeout = 3 * time.Minute
	readyTimeout = 15 * time.Second
	exitTimeout  = 90 * time.Second
	pollInterval = 20 * time.Millisecond
)

// binDir is the directory that TestMain creates for the notifier binary and
// removes after the tests.
var binDir string

// build builds the notifier once for all tests; every test that needs the
// binary fails with the same error if the build fails.
var build = sync.OnceValues(func() (string, error) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("go command not in PATH: %w", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	bin := filepath.Join(binDir, "notifier")
	out, err := exec.CommandContext(ctx, goTool, "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %w\n%s", err, out)
	}
	return bin, nil
})

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "notifier-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "create binary directory:", err)
		os.Exit(1)
	}
	binDir = dir

	goleak.VerifyTestMain(m, goleak.Cleanup(func(code int) {
		if err := os.RemoveAll(dir); err != nil {
			fmt.Fprintln(os.Stderr, "remove binary directory:", err)
		}
		os.Exit(code)
	}))
}

// notifierBinary returns the path of the built notifier.
func notifierBinary(t *testing.T) string {
	t.Helper()
	bin, err := build()
	if err != nil {
		t.Fatalf("build notifier: %v", err)
	}
	return bin
}

// process is a running notifier binary.
type process struct {
	cmd    *exec.Cmd
	stderr bytes.Buffer  // written by exec until done is closed
	done   chan struct{} // closed by the goroutine that waits for the exit
	err    error         // the error of cmd.Wait; read it after done is closed
}

// startNotifier starts bin with only PATH, HOME and env in its environment.
// A process still running when the test ends is killed.
func startNotifier(t *testing.T, bin string, env map[string]string) *process {
	t.Helper()
	// Not CommandContext: the test decides when the process ends, and a
	// context that ended early would kill it in the middle of its drain.
	p := &process{cmd: exec.Command(bin), done: make(chan struct{})} //nolint:noctx // see above
	p.cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for k, v := range env {
		p.cmd.Env = append(p.cmd.Env, k+"="+v)
	}
	p.cmd.Stderr = &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}

	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// wait waits for the process to exit and returns its exit code.
func (p *process) wait(t *testing.T) int {
	t.Helper()
	timer := time.NewTimer(exitTimeout)
	defer timer.Stop()
	select {
	case <-p.done:
	case <-timer.C:
		t.Fatalf("notifier still running after %v", exitTimeout)
	}
	return p.cmd.ProcessState.ExitCode()
}

// freeAddr returns a loopback address with a port that was free a moment
// ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := (&net.ListenConfig{}).Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("Listen(127.0.0.1:0) error = %v", err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatalf("Close() error = %v", err)
	}
	return addr
}

// newClient returns a client that keeps no idle connections, so that no
// connection goroutine outlives a request.
func newClient() *http.Client {
	return &http.Client{
		Transport: &http.Transport{DisableKeepAlives: true},
		Timeout:   10 * time.Second,
	}
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

// waitStatus polls url with GET until it answers want. It fails the test
// when readyTimeout passes or the process exits first.
func waitStatus(t *testing.T, c *http.Client, p *process, url string, want int) {
	t.Helper()
	deadline := time.NewTimer(readyTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()

	var got int
	var err error
	for {
		if got, _, err = request(t, c, http.MethodGet, url, ""); err == nil && got == want {
			return
		}
		select {
		case <-tick.C:
		case <-p.done:
			t.Fatalf("notifier exited while waiting for GET %s = %d; stderr:\n%s",
				url, want, p.stderr.String())
		case <-deadline.C:
			t.Fatalf("GET %s = %d, %v after %v, want %d", url, got, err, readyTimeout, want)
		}
	}
}

// receiver is a webhook endpoint that holds its first delivery and records
// the Idempotency-Key of every delivery it answers with 200.
type receiver struct {
	srv       *httptest.Server
	hold      time.Duration
	first     sync.Once
	started   chan struct{} // closed when the first delivery arrives
	mu        sync.Mutex
	delivered map[string]int // guarded by mu
}

// newReceiver starts a receiver on loopback that holds its first delivery
// for hold. It is closed when the test ends.
func newReceiver(t *testing.T, hold time.Duration) *receiver {
	t.Helper()
	r := &receiver{hold: hold, started: make(chan struct{}), delivered: map[string]int{}}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	held := false
	r.first.Do(func() {
		held = true
		close(r.started)
	})

	if held {
		timer := time.NewTimer(r.hold)
		defer timer.Stop()
		select {
		case <-timer.C:
		case <-req.Context().Done():
			return // the sender gave up: not delivered
		}
	}

	r.mu.Lock()
	r.delivered[req.Header.Get("Idempotency-Key")]++
	r.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

// deliveries returns a copy of the delivery count of each key.
func (r *receiver) deliveries() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]int, len(r.delivered))
	for k, n := range r.delivered {
		out[k] = n
	}
	return out
}

// TestSIGTERMWaitsForLongDrain checks that a delivery that outlasts fx's
// default stop timeout of 15 s still completes after SIGTERM, while the
// service reports draining, and that the process then exits 0.
func TestSIGTERMWaitsForLongDrain(t *testing.T) {
	t.Parallel()
	const hold = 17 * time.Second
	bin := notifierBinary(t)
	recv := newReceiver(t, hold)
	addr := freeAddr(t)
	p := startNotifier(t, bin, map[string]string{
		"NOTIFIER_HTTP_ADDR":                   addr,
		"NOTIFIER_WEBHOOK_URL":                 recv.srv.URL,
		"WORKER_POOL_SHUTDOWN_TIMEOUT_SECONDS": "40",
		"WORKER_POOL_JOB_TIMEOUT_SECONDS":      "30",
	})
	c := newClient()
	base := "http://" + addr
	waitStatus(t, c, p, base+"/readyz", http.StatusOK)

	body := `{"id":"long-1","recipient":"r","body":"held"}`
	code, _, err := request(t, c, http.MethodPost, base+"/v1/notifications", body)
	if err != nil || code != http.StatusAccepted {
		t.Fatalf("POST /v1/notifications = %d, %v, want 202", code, err)
	}
	waitStarted(t, recv)

	signalled := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("Signal(SIGTERM) error = %v", err)
	}
	waitStatus(t, c, p, base+"/readyz", http.StatusServiceUnavailable)
	late := `{"id":"late-1","recipient":"r","body":"late"}`
	code, retry, err := request(t, c, http.MethodPost, base+"/v1/notifications", late)
	if err != nil || code != http.StatusServiceUnavailable || retry == "" {
		t.Errorf("POST /v1/notifications while draining = %d with Retry-After %q, %v, "+
			"want 503 with Retry-After", code, retry, err)
	}

	exit := p.wait(t)
	elapsed := time.Since(signalled)
	if exit != 0 {
		t.Errorf("notifier exit code = %d, want 0; stderr:\n%s", exit, p.stderr.String())
	}
	if got := recv.deliveries(); len(got) != 1 || got["long-1"] != 1 {
		t.Errorf("receiver deliveries = %v, want map[long-1:1]", got)
	}
	// Timing is the point here: a stop cut at fx's default would end
	// before the held delivery could.
	if elapsed <= 15*time.Second {
		t.Errorf("time from SIGTERM to exit = %v, want > 15s", elapsed)
	}
	t.Logf("time from SIGTERM to exit: %v", elapsed.Round(time.Millisecond))
}

// waitStarted waits until the receiver holds its first delivery.
func waitStarted(t *testing.T, r *receiver) {
	t.Helper()
	timer := time.NewTimer(readyTimeout)
	defer timer.Stop()
	select {
	case <-r.started:
	case <-timer.C:
		t.Fatalf("no delivery reached the receiver within %v", readyTimeout)
	}
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
			bin := notifierBinary(t)
			p := startNotifier(t, bin, map[string]string{
				"NOTIFIER_HTTP_ADDR": freeAddr(t),
				tt.key:               tt.value,
			})

			exit := p.wait(t)
			if exit == 0 {
				t.Errorf("notifier with %s=%s: exit code = 0, want non-zero", tt.key, tt.value)
			}
			if stderr := p.stderr.String(); !strings.Contains(stderr, tt.key) {
				t.Errorf("notifier with %s=%s: stderr = %q, want it to name %s",
					tt.key, tt.value, stderr, tt.key)
			}
		})
	}
}
