package main

import (
	"crypto/hmac"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/fxpool/fxpool/internal/servicetest"
	"github.com/fxpool/fxpool/notification"
)

// Secrets of TestSecretsStayOutOfLogsAndResponses. Each is long and unusual
// enough that finding it anywhere means it leaked.
const (
	secretToken    = "tok-Sup3rSecret-7f3a"
	secretHMAC     = "hmac-Sup3rSecret-91c2"
	secretUser     = "hookuser"
	secretPassword = "pa55word-4e1d"
	secretQuery    = "qs-secret-0b8e"
)

// secretReceiver is a webhook endpoint that checks each delivery's
// credentials and signature, and answers by id: ok-* get 200, fail-* get 500
// and then 400 on later attempts.
type secretReceiver struct {
	srv      *httptest.Server
	sawCreds atomic.Bool // a delivery carried the URL's userinfo and query
	sawSig   atomic.Bool // a delivery carried a valid signature
	mu       sync.Mutex
	attempts map[string]int // guarded by mu
}

func newSecretReceiver(t *testing.T) *secretReceiver {
	t.Helper()
	r := &secretReceiver{attempts: map[string]int{}}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *secretReceiver) serve(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return
	}
	user, pass, ok := req.BasicAuth()
	if ok && user == secretUser && pass == secretPassword &&
		req.URL.Query().Get("key") == secretQuery {
		r.sawCreds.Store(true)
	}
	want := notification.Sign(secretHMAC, body)
	if hmac.Equal([]byte(req.Header.Get("X-Signature-256")), []byte(want)) {
		r.sawSig.Store(true)
	}

	id := req.Header.Get("Idempotency-Key")
	r.mu.Lock()
	r.attempts[id]++
	attempt := r.attempts[id]
	r.mu.Unlock()
	switch {
	case strings.HasPrefix(id, "ok-"):
		w.WriteHeader(http.StatusOK)
	case attempt == 1:
		w.WriteHeader(http.StatusInternalServerError)
	default:
		w.WriteHeader(http.StatusBadRequest)
	}
}

// exchange sends one request and returns everything the client got back:
// the status line, the headers and the body.
func exchange(t *testing.T, c *http.Client, method, url, auth, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatalf("NewRequest(%s %s) error = %v", method, url, err)
	}
	req.Header.Set("Content-Type", "application/json")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s error = %v", method, url, err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, url, err)
	}
	return resp.StatusCode, fmt.Sprintf("%s %v\n%s", resp.Status, resp.Header, b)
}

// TestSecretsStayOutOfLogsAndResponses runs the binary at debug level with
// an API token, a webhook secret, and a webhook URL with a password and a
// secret query. It delivers, fails, retries, dead-letters, replays, refuses
// bad tokens and shuts down, and then looks for the secrets in every log
// line, every response, the replay's output and the dead-letter file.
func TestSecretsStayOutOfLogsAndResponses(t *testing.T) {
	t.Parallel()
	bin := servicetest.Build(t)
	recv := newSecretReceiver(t)
	hook := strings.Replace(recv.srv.URL, "http://",
		"http://"+secretUser+":"+secretPassword+"@", 1) + "/hook?key=" + secretQuery
	deadLetters := filepath.Join(t.TempDir(), "dead.jsonl")
	p, base := servicetest.StartNotifier(t, map[string]string{
		"NOTIFIER_API_TOKEN":              secretToken,
		"NOTIFIER_WEBHOOK_SECRET":         secretHMAC,
		"NOTIFIER_WEBHOOK_URL":            hook,
		"NOTIFIER_DEADLETTER_PATH":        deadLetters,
		"NOTIFIER_LOG_LEVEL":              "debug",
		"WORKER_POOL_JOB_TIMEOUT_SECONDS": "5",
	})
	c := servicetest.NewClient()

	answers := exerciseWithSecrets(t, c, base)
	servicetest.WaitMetrics(t, p, base, func(m servicetest.Samples) bool {
		return m[servicetest.DeliveredTotal] == 1 && m[servicetest.FailedTotal] == 1
	})
	replayed, code := runBinaryReplay(t, bin, secretToken, "--url", base, deadLetters)
	if code != 0 {
		t.Errorf("notifier replay = exit %d, output:\n%s\nwant 0", code, replayed)
	}
	m := servicetest.WaitMetrics(t, p, base, func(m servicetest.Samples) bool {
		return m[servicetest.FailedTotal] == 2
	})
	stopAndWait(t, p)

	stderr := p.Stderr()
	dead, err := os.ReadFile(deadLetters)
	if err != nil {
		t.Fatalf("ReadFile(%s) error = %v", deadLetters, err)
	}
	checkNoSecrets(t, "stderr", stderr)
	checkNoSecrets(t, "responses", strings.Join(answers, "\n"))
	checkNoSecrets(t, "replay output", replayed)
	checkNoSecrets(t, "dead-letter file", string(dead))

	// Without these, the secrets were never in play and the checks above
	// prove nothing.
	if !recv.sawCreds.Load() || !recv.sawSig.Load() {
		t.Errorf("receiver saw credentials %v, signature %v, want both",
			recv.sawCreds.Load(), recv.sawSig.Load())
	}
	for _, want := range []string{
		`"level":"debug"`, "retrying delivery",
		"notification not delivered", "fail-1",
	} {
		if !strings.Contains(stderr, want) || !strings.Contains(string(dead), "fail-1") {
			t.Errorf("stderr lacks %q or the dead letters lack fail-1; "+
				"the secrets were not exercised", want)
		}
	}
	t.Logf("deliveries: delivered=%v failed=%v; %d log bytes checked",
		m[servicetest.DeliveredTotal], m[servicetest.FailedTotal], len(stderr))
}

// exerciseWithSecrets makes the requests of the secrets test and returns
// every answer.
func exerciseWithSecrets(t *testing.T, c *http.Client, base string) []string {
	t.Helper()
	url := base + "/v1/notifications"
	good := "Bearer " + secretToken
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("u:"+secretToken))
	requests := []struct {
		method, url, auth, body string
		want                    int
	}{
		{http.MethodPost, url, good, `{"id":"ok-1","recipient":"r","body":"b"}`, 202},
		{http.MethodPost, url, good, `{"id":"fail-1","recipient":"r","body":"b"}`, 202},
		{http.MethodPost, url, "", `{"recipient":"r","body":"b"}`, 401},
		{http.MethodPost, url, "Bearer wrong", `{"recipient":"r","body":"b"}`, 401},
		{http.MethodPost, url, good + "x", `{"recipient":"r","body":"b"}`, 401},
		{http.MethodPost, url, secretToken, `{"recipient":"r","body":"b"}`, 401},
		{http.MethodPost, url, basic, `{"recipient":"r","body":"b"}`, 401},
		{http.MethodPost, url + "?token=" + secretToken, "", `{"recipient":"r","body":"b"}`, 401},
		{http.MethodPost, url, good, `{"recipient":"` + secretToken + `"}`, 400},
		{http.MethodPost, url, good, `{"` + secretHMAC + `":1}`, 400},
		{http.MethodGet, url, good, "", 405},
		{http.MethodGet, base + "/metrics", "", "", 200},
		{http.MethodGet, base + "/healthz", "", "", 200},
		{http.MethodGet, base + "/readyz", "", "", 200},
	}
	var answers []string
	for _, r := range requests {
		code, answer := exchange(t, c, r.method, r.url, r.auth, r.body)
		if code != r.want {
			t.Errorf("%s %s with %q = %d, want %d", r.method, r.url, r.auth, code, r.want)
		}
		// The 400s echo the fields they name; only the token or secret
		// sent in the body may come back, and they are checked apart.
		if code != http.StatusBadRequest {
			answers = append(answers, answer)
		} else if strings.Contains(answer, secretPassword) ||
			strings.Contains(answer, secretQuery) {
			t.Errorf("%s %s answer shows the webhook credentials:\n%s", r.method, r.url, answer)
		}
	}
	return answers
}

// checkNoSecrets fails the test for each secret found in text.
func checkNoSecrets(t *testing.T, where, text string) {
	t.Helper()
	basic := base64.StdEncoding.EncodeToString([]byte(secretUser + ":" + secretPassword))
	for _, s := range []string{secretToken, secretHMAC, secretPassword, secretQuery, basic} {
		if strings.Contains(text, s) {
			for line := range strings.Lines(text) {
				if strings.Contains(line, s) {
					t.Errorf("%s shows secret %q in: %s", where, s, line)
				}
			}
		}
	}
}
