//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The probe sends probeSent requests from probeWorkers goroutines, each at
// most once per probeInterval: about 1.25 s in all, so that it is still
// sending when SIGTERM arrives.
const (
	probeSent     = 500
	probeWorkers  = 8
	probeInterval = 20 * time.Millisecond
)

// probeResult is what the probe saw. It is safe for concurrent use until
// runProbe returns; after that, it is read without the lock.
type probeResult struct {
	mu           sync.Mutex
	answers      int      // requests sent; guarded by mu
	accepted     []string // IDs answered 202; guarded by mu
	refused      []string // IDs answered 503; guarded by mu
	shuttingDown int      // 503s that say the service is shutting down; guarded by mu
	connErrors   int      // requests without a response; guarded by mu
	afterSignal  int      // requests sent after SIGTERM; guarded by mu
	problems     []string // guarded by mu
}

// probeAnswer is the result of one probe request.
type probeAnswer struct {
	id         string
	status     int
	retryAfter string
	body       answerBody
	err        error
	sentAfter  bool // SIGTERM had been sent when the request was sent
	errAfter   bool // SIGTERM had been sent when the error was seen
}

// answerBody holds the fields of both a 202 and an error response.
type answerBody struct {
	ID    string `json:"id"`
	Error string `json:"error"`
}

// prober sends the probe's requests.
type prober struct {
	client    *http.Client
	url       string       // the notifications endpoint
	signalled *atomic.Bool // set just before SIGTERM is sent
}

// runProbe sends probeSent notifications with the IDs probe-1 to probe-N and
// records each answer. signalled tells it whether SIGTERM has been sent.
func (h *harness) runProbe(ctx context.Context, signalled *atomic.Bool) *probeResult {
	client := &http.Client{
		Transport: &http.Transport{MaxIdleConnsPerHost: probeWorkers},
		Timeout:   10 * time.Second,
	}
	defer client.CloseIdleConnections()
	p := prober{client: client, url: h.base + "/v1/notifications", signalled: signalled}

	res := &probeResult{}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range probeWorkers {
		wg.Go(func() {
			tick := time.NewTicker(probeInterval)
			defer tick.Stop()
			for i := next.Add(1); i <= probeSent; i = next.Add(1) {
				res.add(p.send(ctx, fmt.Sprintf("probe-%d", i)))
				select {
				case <-tick.C:
				case <-ctx.Done():
					return
				}
			}
		})
	}
	wg.Wait()
	return res
}

// send posts one notification with the given ID.
func (p prober) send(ctx context.Context, id string) probeAnswer {
	a := probeAnswer{id: id, sentAfter: p.signalled.Load()}
	body := fmt.Sprintf(`{"id":%q,"recipient":"e2e","body":"probe"}`, id)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, strings.NewReader(body))
	if err != nil {
		a.err = err
		return a
	}
	req.Header.Set("Content-Type", "application/json")

	resp, err := p.client.Do(req)
	if err == nil {
		a.status, a.retryAfter = resp.StatusCode, resp.Header.Get("Retry-After")
		err = json.NewDecoder(resp.Body).Decode(&a.body)
		_ = resp.Body.Close() // a decode error already says what went wrong
	}
	a.err, a.errAfter = err, p.signalled.Load()
	return a
}

// add records one answer and any rule it breaks.
func (r *probeResult) add(a probeAnswer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.answers++
	if a.sentAfter {
		r.afterSignal++
	}
	switch {
	case a.err != nil && a.status == 0:
		r.connErrors++
		if !a.errAfter {
			r.problems = append(r.problems, fmt.Sprintf("%s: %v before SIGTERM", a.id, a.err))
		}
	case a.err != nil:
		r.problems = append(r.problems, fmt.Sprintf("%s: status %d, body: %v",
			a.id, a.status, a.err))
	case a.status == http.StatusAccepted && a.body.ID == a.id:
		r.accepted = append(r.accepted, a.id)
	case a.status == http.StatusServiceUnavailable:
		r.refused = append(r.refused, a.id)
		if strings.Contains(a.body.Error, "shutting down") {
			r.shuttingDown++
		}
		if a.retryAfter == "" {
			r.problems = append(r.problems, a.id+": 503 without Retry-After")
		}
	default:
		r.problems = append(r.problems, fmt.Sprintf("%s: status %d with body %+v, "+
			"want 202 with its id or 503", a.id, a.status, a.body))
	}
}

// check reports the rules the probe saw broken.
func (r *probeResult) check(t *testing.T) {
	t.Helper()
	for _, p := range r.problems {
		t.Errorf("probe %s", p)
	}
	if r.answers != probeSent {
		t.Errorf("probe requests = %d, want %d", r.answers, probeSent)
	}
}
