package notification

import (
	"bytes"
	"context"
	"crypto/hmac"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// testServer is a loopback server that counts the connections it accepts.
type testServer struct {
	*httptest.Server
	conns atomic.Int64
}

// newServer starts a server running h. It resets the first drop connections
// it accepts, or every connection when drop is negative.
func newServer(t *testing.T, h http.Handler, drop int64) *testServer {
	t.Helper()

	ts := &testServer{Server: httptest.NewUnstartedServer(h)}
	if drop != 0 {
		ts.Listener = &resetListener{Listener: ts.Listener, drop: drop}
	}
	ts.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			ts.conns.Add(1)
		}
	}
	ts.Start()
	t.Cleanup(ts.Close)
	return ts
}

// resetListener resets the first drop connections it accepts (all of them
// when drop is negative), so that clients see a network error.
type resetListener struct {
	net.Listener
	drop     int64
	accepted atomic.Int64
}

func (l *resetListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.drop >= 0 && l.accepted.Add(1) > l.drop {
			return c, nil
		}
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0) // close with a reset
		}
		_ = c.Close()
	}
}

// newSender returns a sender with tiny backoffs, closed when the test ends.
func newSender(t *testing.T, cfg WebhookConfig) *WebhookSender {
	t.Helper()

	if cfg.BaseBackoff == 0 {
		cfg.BaseBackoff = time.Millisecond
	}
	if cfg.MaxBackoff == 0 {
		cfg.MaxBackoff = time.Millisecond
	}
	s, err := NewWebhookSender(cfg)
	if err != nil {
		t.Fatalf("NewWebhookSender() = %v, want nil", err)
	}
	t.Cleanup(s.Close)
	return s
}

// recorder collects the results passed to OnAttempt.
type recorder struct {
	mu      sync.Mutex
	results []string // guarded by mu
}

func (r *recorder) record(result string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.results = append(r.results, result)
}

func (r *recorder) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.results)
}

// statuses returns a handler that answers the i-th request with codes[i],
// and with 200 once codes run out. Each response carries header.
func statuses(header http.Header, codes ...int) http.Handler {
	var n atomic.Int64
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		for k, v := range header {
			w.Header()[k] = v
		}
		if i := int(n.Add(1)) - 1; i < len(codes) {
			w.WriteHeader(codes[i])
			return
		}
		w.WriteHeader(http.StatusOK)
	})
}

func testNotification() Notification {
	return Notification{
		ID:        "n-1",
		Recipient: "ada@example.com",
		Subject:   "hello",
		Body:      "the body",
		Metadata:  map[string]string{"k": "v"},
	}
}

// asDeliveryError returns err as a *DeliveryError or stops the test.
func asDeliveryError(t *testing.T, err error) *DeliveryError {
	t.Helper()

	var derr *DeliveryError
	if !errors.As(err, &derr) {
		t.Fatalf("Send() = %v, want a *DeliveryError", err)
	}
	return derr
}

func TestSendPostsSignedJSON(t *testing.T) {
	t.Parallel()

	type request struct {
		method string
		header http.Header
		body   []byte
	}
	got := make(chan request, 1)
	ts := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- request{r.Method, r.Header.Clone(), body}
	}), 0)
	s := newSender(t, WebhookConfig{URL: ts.URL + "/hook", Secret: "s3cret"})
	n := testNotification()

	if err := s.Send(context.Background(), n); err != nil {
		t.Fatalf("Send() = %v, want nil", err)
	}

	req := <-got
	if req.method != http.MethodPost {
		t.Errorf("method = %s, want POST", req.method)
	}
	if v := req.header.Get("Content-Type"); v != "application/json" {
		t.Errorf("Content-Type = %q, want %q", v, "application/json")
	}
	if v := req.header.Get("Idempotency-Key"); v != n.ID {
		t.Errorf("Idempotency-Key = %q, want %q", v, n.ID)
	}
	sig := req.header.Get("X-Signature-256")
	if want := Sign("s3cret", req.body); !hmac.Equal([]byte(sig), []byte(want)) {
		t.Errorf("X-Signature-256 = %q, want %q", sig, want)
	}

	var decoded Notification
	if err := json.Unmarshal(req.body, &decoded); err != nil {
		t.Fatalf("json.Unmarshal(body) = %v, want nil", err)
	}
	if !reflect.DeepEqual(decoded, n) {
		t.Errorf("decoded body = %+v, want %+v", decoded, n)
	}
}

func TestSendWithoutSecretOmitsSignature(t *testing.T) {
	t.Parallel()

	got := make(chan http.Header, 1)
	ts := newServer(t, http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		got <- r.Header.Clone()
	}), 0)
	s := newSender(t, WebhookConfig{URL: ts.URL})

	if err := s.Send(context.Background(), testNotification()); err != nil {
		t.Fatalf("Send() = %v, want nil", err)
	}
	if v := (<-got).Get("X-Signature-256"); v != "" {
		t.Errorf("X-Signature-256 = %q, want none", v)
	}
}

func TestSign(t *testing.T) {
	t.Parallel()

	got := Sign("key", []byte("The quick brown fox jumps over the lazy dog"))
	want := "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
	if got != want {
		t.Errorf("Sign(key, fox) = %s, want %s", got, want)
	}
}

func TestSendFinalResponses(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name   string
		status int
	}{
		{"400", http.StatusBadRequest},
		{"404", http.StatusNotFound},
		{"302 not followed", http.StatusFound},
		{"301 not followed", http.StatusMovedPermanently},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			var followed atomic.Int64
			mux := http.NewServeMux()
			mux.HandleFunc("/elsewhere", func(http.ResponseWriter, *http.Request) {
				followed.Add(1)
			})
			mux.Handle("/hook", statuses(http.Header{"Location": {"/elsewhere"}}, tt.status))
			ts := newServer(t, mux, 0)
			var rec recorder
			s := newSender(t, WebhookConfig{URL: ts.URL + "/hook", OnAttempt: rec.record})

			derr := asDeliveryError(t, s.Send(context.Background(), testNotification()))

			if derr.Attempts != 1 || derr.StatusCode != tt.status || !derr.Permanent {
				t.Errorf("Send() = %+v, want 1 attempt, status %d, permanent", derr, tt.status)
			}
			if n := followed.Load(); n != 0 {
				t.Errorf("requests to redirect target = %d, want 0", n)
			}
			if got, want := rec.list(), []string{ResultPermanent}; !slices.Equal(got, want) {
				t.Errorf("attempts = %v, want %v", got, want)
			}
		})
	}
}

func TestSendCallerClientDoesNotFollowRedirects(t *testing.T) {
	t.Parallel()

	ts := newServer(t, statuses(http.Header{"Location": {"/x"}}, http.StatusFound), 0)
	client := &http.Client{Transport: &http.Transport{}}
	t.Cleanup(client.CloseIdleConnections)
	s := newSender(t, WebhookConfig{URL: ts.URL, Client: client})

	derr := asDeliveryError(t, s.Send(context.Background(), testNotification()))

	if derr.StatusCode != http.StatusFound || !derr.Permanent {
		t.Errorf("Send() = %+v, want status 302, permanent", derr)
	}
	if client.CheckRedirect != nil {
		t.Error("caller's client.CheckRedirect was changed, want it left alone")
	}
}

func TestSendRejectsIDThatIsNotAHeaderValue(t *testing.T) {
	t.Parallel()

	ts := newServer(t, statuses(nil), 0)
	s := newSender(t, WebhookConfig{URL: ts.URL})
	n := testNotification()
	n.ID = "a\r\nX-Injected: 1"

	derr := asDeliveryError(t, s.Send(context.Background(), n))

	if derr.Attempts != 0 || !derr.Permanent {
		t.Errorf("Send(bad id) = %+v, want 0 attempts, permanent", derr)
	}
}

func TestSendReusesConnection(t *testing.T) {
	t.Parallel()

	ts := newServer(t, statuses(nil), 0)
	s := newSender(t, WebhookConfig{URL: ts.URL})

	for i := range 20 {
		if err := s.Send(context.Background(), testNotification()); err != nil {
			t.Fatalf("Send() #%d = %v, want nil", i, err)
		}
	}

	if n := ts.conns.Load(); n != 1 {
		t.Errorf("connections after 20 sends = %d, want 1", n)
	}
}

func TestSendConcurrentReusesConnections(t *testing.T) {
	t.Parallel()

	const (
		workers  = 8
		sends    = 50
		maxConns = 10
	)
	ts := newServer(t, statuses(nil), 0)
	s := newSender(t, WebhookConfig{URL: ts.URL, MaxConns: maxConns})

	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range sends {
				if err := s.Send(context.Background(), testNotification()); err != nil {
					t.Errorf("Send() = %v, want nil", err)
					return
				}
			}
		})
	}
	wg.Wait()

	if n := ts.conns.Load(); n > maxConns {
		t.Errorf("connections after %d sends = %d, want <= %d", workers*sends, n, maxConns)
	}
}

func TestSendHugeErrorBodyKeepsWorking(t *testing.T) {
	t.Parallel()

	var n atomic.Int64
	ts := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if n.Add(1) == 1 {
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write(bytes.Repeat([]byte("x"), 10<<20))
		}
	}), 0)
	var rec recorder
	s := newSender(t, WebhookConfig{URL: ts.URL, OnAttempt: rec.record})

	for i := range 5 {
		if err := s.Send(context.Background(), testNotification()); err != nil {
			t.Fatalf("Send() #%d = %v, want nil", i, err)
		}
	}

	if got := rec.list(); len(got) != 6 || got[0] != ResultRetryable {
		t.Errorf("attempts = %v, want retryable then 5 successes", got)
	}
	// The abandoned body costs its connection; the rest share one.
	if c := ts.conns.Load(); c > 2 {
		t.Errorf("connections = %d, want <= 2", c)
	}
}

func TestNewWebhookSenderRejectsBadURLs(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		url  string
	}{
		{"empty", ""},
		{"ftp", "ftp://x"},
		{"relative", "/relative"},
		{"no host", "http://"},
		{"opaque", "http:example.com"},
		{"ftp with secrets", "ftp://user:pw@host/?token=abc"},
		{"no host with secrets", "https://user:pw@/?token=abc"},
		{"unparsable with secrets", "http://user:pw@host/%zz?token=abc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			s, err := NewWebhookSender(WebhookConfig{URL: tt.url})
			if err == nil {
				s.Close()
				t.Fatalf("NewWebhookSender(%q) = nil error, want one", tt.url)
			}
			for _, leak := range []string{"user", "pw", "token", "abc"} {
				if strings.Contains(err.Error(), leak) {
					t.Errorf("NewWebhookSender(%q) = %q, want no %q", tt.url, err, leak)
				}
			}
		})
	}
}

func TestNewWebhookSenderRejectsNegativeSettings(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		cfg  WebhookConfig
	}{
		{"max conns", WebhookConfig{MaxConns: -1}},
		{"base backoff", WebhookConfig{BaseBackoff: -time.Second}},
		{"max backoff", WebhookConfig{MaxBackoff: -time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			tt.cfg.URL = "http://127.0.0.1/hook"
			if _, err := NewWebhookSender(tt.cfg); err == nil {
				t.Errorf("NewWebhookSender(%+v) = nil error, want one", tt.cfg)
			}
		})
	}
}

func TestSendNeverLogsOrReturnsSecrets(t *testing.T) {
	t.Parallel()

	const secret = "s3cret-value"
	ts := newServer(t, statuses(nil, 500, 400), 1)
	core, logs := observer.New(zapcore.DebugLevel)
	rawURL := strings.Replace(ts.URL, "://", "://user:pw@", 1) + "/hook?token=abc"
	s := newSender(t, WebhookConfig{URL: rawURL, Secret: secret, Logger: zap.New(core)})
	n := testNotification()
	n.Body = "private body text"

	err := s.Send(context.Background(), n)

	derr := asDeliveryError(t, err)
	if derr.Attempts != 3 || !derr.Permanent {
		t.Fatalf("Send() = %+v, want 3 attempts, permanent", derr)
	}
	if logs.Len() != 2 {
		t.Errorf("log entries = %d, want 2 (one per retry)", logs.Len())
	}

	var text strings.Builder
	fmt.Fprintln(&text, err)
	for _, e := range logs.All() {
		fmt.Fprintln(&text, e.Message, e.ContextMap())
		if got, want := e.ContextMap()["url"], ts.URL+"/hook"; got != want {
			t.Errorf("logged url = %v, want %v", got, want)
		}
	}
	for _, leak := range []string{secret, n.Body, "token=abc", "user:pw"} {
		if strings.Contains(text.String(), leak) {
			t.Errorf("logs and error = %s, want no %q", text.String(), leak)
		}
	}
}

func TestRedactURL(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"": "",
		"https://user:pw@hooks.test:8443/in?token=abc#frag": "https://hooks.test:8443/in",
		"http://hooks.test": "http://hooks.test",
		"http://[::1":       "(unparsable)",
	}
	for raw, want := range tests {
		if got := RedactURL(raw); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", raw, got, want)
		}
	}
}
