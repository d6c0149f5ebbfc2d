package servicetest

import (
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

func TestFreeAddrIsLoopback(t *testing.T) {
	t.Parallel()
	addr := FreeAddr(t)

	host, _, err := net.SplitHostPort(addr)
	if err != nil || host != "127.0.0.1" {
		t.Fatalf("FreeAddr() = %q, want 127.0.0.1:port", addr)
	}
	ln, err := (&net.ListenConfig{}).Listen(t.Context(), "tcp", addr)
	if err != nil {
		t.Fatalf("Listen(%s) error = %v, want the port free", addr, err)
	}
	_ = ln.Close() // only the Listen mattered
}

func TestPollCallsCheckUntilNil(t *testing.T) {
	t.Parallel()
	calls := 0
	Poll(t, nil, WaitTimeout, func() error {
		calls++
		if calls < 3 {
			return errors.New("not yet")
		}
		return nil
	})
	if calls != 3 {
		t.Errorf("Poll called check %d times, want 3", calls)
	}
}

func TestWaitStatusPollsUntilCode(t *testing.T) {
	t.Parallel()
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if requests.Add(1) < 3 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(srv.Close)

	WaitReady(t, nil, srv.URL)
	if got := requests.Load(); got != 3 {
		t.Errorf("requests = %d, want 3: two 503s, then a 200", got)
	}
}

func TestWaitClosedReturnsOnClosedChannel(t *testing.T) {
	t.Parallel()
	ch := make(chan struct{})
	close(ch)
	WaitClosed(t, nil, ch, "a closed channel")
}
