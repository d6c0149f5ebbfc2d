package servicetest

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// Bounds of the waits. They are generous because they only end a test that
// has already failed.
const (
	// WaitTimeout bounds [WaitStatus], [WaitReady], [WaitClosed] and
	// [WaitMetrics].
	WaitTimeout = 30 * time.Second

	// PollInterval is how often [Poll] checks its condition.
	PollInterval = 20 * time.Millisecond
)

// client makes the requests of the helpers in this package.
var client = NewClient()

// NewClient returns a client that keeps no idle connections, so that no
// connection goroutine outlives a request, and gives up on a request after
// 10 seconds.
func NewClient() *http.Client {
	return &http.Client{
		Transport: &http.Transport{DisableKeepAlives: true},
		Timeout:   10 * time.Second,
	}
}

// FreeAddr returns a loopback address with a port that was free a moment
// ago.
func FreeAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := (&net.ListenConfig{}).Listen(tb.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("Listen(127.0.0.1:0) error = %v", err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		tb.Fatalf("Close() error = %v", err)
	}
	return addr
}

// Poll calls check every [PollInterval] until it returns nil. It fails the
// test with check's last error when timeout passes, or when p exits first;
// p may be nil.
func Poll(tb testing.TB, p *Process, timeout time.Duration, check func() error) {
	tb.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(PollInterval)
	defer tick.Stop()

	for {
		err := check()
		if err == nil {
			return
		}
		select {
		case <-tick.C:
		case <-exited(p):
			tb.Fatalf("%s exited while waiting: %v; stderr:\n%s", p.name(), err, p.Stderr())
		case <-deadline.C:
			tb.Fatalf("still waiting after %v: %v", timeout, err)
		}
	}
}

// WaitStatus polls url with GET until it answers code. It fails the test
// when [WaitTimeout] passes or p exits first.
func WaitStatus(tb testing.TB, p *Process, url string, code int) {
	tb.Helper()
	Poll(tb, p, WaitTimeout, func() error {
		got, err := get(tb.Context(), url, io.Discard)
		if err == nil && got != code {
			err = fmt.Errorf("GET %s = %d, want %d", url, got, code)
		}
		return err
	})
}

// WaitReady waits until GET /readyz at base, such as http://127.0.0.1:port,
// answers 200. See [WaitStatus].
func WaitReady(tb testing.TB, p *Process, base string) {
	tb.Helper()
	WaitStatus(tb, p, base+"/readyz", http.StatusOK)
}

// WaitClosed waits until ch is closed. It fails the test, saying that it was
// waiting for what, when [WaitTimeout] passes or p exits first; p may be nil.
func WaitClosed(tb testing.TB, p *Process, ch <-chan struct{}, what string) {
	tb.Helper()
	timer := time.NewTimer(WaitTimeout)
	defer timer.Stop()
	select {
	case <-ch:
	case <-exited(p):
		tb.Fatalf("%s exited while waiting for %s; stderr:\n%s", p.name(), what, p.Stderr())
	case <-timer.C:
		tb.Fatalf("still waiting for %s after %v", what, WaitTimeout)
	}
}

// exited returns the channel that p closes when it exits, or, without a
// process, nil, which is never ready.
func exited(p *Process) <-chan struct{} {
	if p == nil {
		return nil
	}
	return p.done
}

// get sends GET url and copies the body to w.
func get(ctx context.Context, url string, w io.Writer) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	_, err = io.Copy(w, resp.Body)
	_ = resp.Body.Close() // read to the end: nothing left to fail
	return resp.StatusCode, err
}
