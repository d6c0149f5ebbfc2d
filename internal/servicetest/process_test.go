package servicetest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// childEnv names the variable that makes this test binary run as a child
// process instead of running the tests: its value is the child's mode.
const childEnv = "SERVICETEST_CHILD"

// runChild runs the child process in mode and returns its exit code. In
// "env" it writes its sorted environment to stderr and exits 3. In "serve" it
// answers every request 200 on NOTIFIER_HTTP_ADDR until SIGTERM, then writes
// "stopped" to stderr and exits 0.
func runChild(mode string) int {
	switch mode {
	case "env":
		env := os.Environ()
		slices.Sort(env)
		fmt.Fprintln(os.Stderr, strings.Join(env, "\n"))
		return 3
	case "serve":
		return serveUntilSIGTERM(os.Getenv("NOTIFIER_HTTP_ADDR"))
	default:
		fmt.Fprintln(os.Stderr, "unknown mode", mode)
		return 2
	}
}

func serveUntilSIGTERM(addr string) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	srv := &http.Server{
		Addr:              addr,
		Handler:           http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}),
		ReadHeaderTimeout: time.Second,
	}
	context.AfterFunc(ctx, func() { _ = srv.Close() })
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Fprintln(os.Stderr, "stopped")
	return 0
}

// startChild starts this test binary as a child in mode, with env on top.
func startChild(t *testing.T, mode string, env map[string]string) *Process {
	t.Helper()
	bin, err := os.Executable()
	if err != nil {
		t.Fatalf("Executable() error = %v", err)
	}
	full := map[string]string{childEnv: mode}
	for k, v := range env {
		full[k] = v
	}
	return Start(t, bin, full)
}

func TestStartPassesOnlyPathHomeAndEnv(t *testing.T) {
	t.Setenv("SERVICETEST_PARENT_ONLY", "leaked")
	p := startChild(t, "env", map[string]string{"GREETING": "hi"})

	if code := p.Wait(t, WaitTimeout); code != 3 {
		t.Errorf("Wait() = %d, want 3; stderr:\n%s", code, p.Stderr())
	}
	var names []string
	for line := range strings.Lines(p.Stderr()) {
		name, _, _ := strings.Cut(line, "=")
		names = append(names, name)
	}
	want := []string{"GREETING", "HOME", "PATH", childEnv}
	if !slices.Equal(names, want) {
		t.Errorf("child environment names = %q, want %q", names, want)
	}
}

func TestSignalStopsServingProcess(t *testing.T) {
	t.Parallel()
	addr := FreeAddr(t)
	p := startChild(t, "serve", map[string]string{"NOTIFIER_HTTP_ADDR": addr})
	WaitReady(t, p, "http://"+addr)
	if got := p.Stderr(); got != "(process still running)" {
		t.Errorf("Stderr() while running = %q, want (process still running)", got)
	}
	if got := p.Exited(); !got.IsZero() {
		t.Errorf("Exited() while running = %v, want the zero time", got)
	}

	signalled := time.Now()
	p.Signal(t, syscall.SIGTERM)
	if code := p.Wait(t, WaitTimeout); code != 0 {
		t.Errorf("Wait() after SIGTERM = %d, want 0; stderr:\n%s", code, p.Stderr())
	}
	if got := p.Stderr(); got != "stopped\n" {
		t.Errorf("Stderr() = %q, want %q", got, "stopped\n")
	}
	if got := p.Exited(); got.Before(signalled) {
		t.Errorf("Exited() = %v, want after SIGTERM at %v", got, signalled)
	}
	select {
	case <-p.Done():
	default:
		t.Error("Done() is open after Wait returned, want closed")
	}
}

func TestSignalKillReportsMinusOne(t *testing.T) {
	t.Parallel()
	addr := FreeAddr(t)
	p := startChild(t, "serve", map[string]string{"NOTIFIER_HTTP_ADDR": addr})
	WaitReady(t, p, "http://"+addr)

	p.Signal(t, os.Kill)
	if code := p.Wait(t, WaitTimeout); code != -1 {
		t.Errorf("Wait() after SIGKILL = %d, want -1", code)
	}
}
