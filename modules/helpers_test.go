package modules_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest"
	"go.uber.org/zap/zaptest/observer"

	"github.com/fxpool/fxpool/notification"
)

// observedLogger returns a logger that writes to t and records every entry
// at debug and above.
func observedLogger(t *testing.T) (*zap.Logger, *observer.ObservedLogs) {
	t.Helper()
	core, logs := observer.New(zapcore.DebugLevel)
	tee := zaptest.NewLogger(t).WithOptions(zap.WrapCore(func(c zapcore.Core) zapcore.Core {
		return zapcore.NewTee(c, core)
	}))
	return tee, logs
}

// senderFunc is a notification.Sender made of a function.
type senderFunc func(context.Context, notification.Notification) error

func (f senderFunc) Send(ctx context.Context, n notification.Notification) error {
	return f(ctx, n)
}

// postAnswer is a response: its status and its body.
type postAnswer struct {
	status int
	body   string
}

// postWith sends body to url with the given Content-Type and returns the
// answer.
func postWith(t *testing.T, url, contentType, body string) postAnswer {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url,
		strings.NewReader(body))
	if err != nil {
		t.Fatalf("NewRequest() error = %v", err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s error = %v", url, err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("POST %s: read body: %v", url, err)
	}
	return postAnswer{resp.StatusCode, string(b)}
}

// postIDs posts a notification for each id and fails the test unless every
// one is answered 202.
func postIDs(t *testing.T, s started, ids ...string) {
	t.Helper()
	for _, id := range ids {
		body := fmt.Sprintf(`{"id":%q,"recipient":"r","body":"b"}`, id)
		a := postWith(t, s.url("/v1/notifications"), "application/json", body)
		if a.status != http.StatusAccepted {
			t.Fatalf("POST %s = %d %s, want 202", id, a.status, a.body)
		}
	}
}

// idsOf returns the notification IDs of letters.
func idsOf(letters []notification.DeadLetter) []string {
	var out []string
	for _, l := range letters {
		out = append(out, l.Notification.ID)
	}
	return out
}

// counter returns the value of a counter family without labels.
func counter(t *testing.T, g prometheus.Gatherer, name string) float64 {
	t.Helper()
	families, err := g.Gather()
	if err != nil {
		t.Fatalf("Gather() error = %v", err)
	}
	for _, f := range families {
		if f.GetName() == name {
			return f.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatalf("Gather() has no %s", name)
	return 0
}

// checkAccounting checks, once the app has stopped, that every accepted
// notification has exactly one result, and that the undelivered ones are
// exactly the dead letters plus the ones that could not be written. It
// returns the deliveries by result.
func checkAccounting(
	t *testing.T,
	g prometheus.Gatherer,
	letters []notification.DeadLetter,
) map[string]float64 {
	t.Helper()
	accepted := counter(t, g, "notification_accepted_total")
	lost := counter(t, g, "notification_dead_letter_errors_total")
	r := deliveryResults(t, g)
	undelivered := r["failed"] + r["abandoned"]

	if handled := r["delivered"] + undelivered; handled != accepted {
		t.Errorf("delivered + failed + abandoned = %v, want accepted_total %v", handled, accepted)
	}
	if written := float64(len(letters)); written+lost != undelivered {
		t.Errorf("dead letters %v + dead_letter_errors_total %v = %v, "+
			"want failed + abandoned = %v", written, lost, written+lost, undelivered)
	}
	if want := r["delivered"] + float64(len(letters)) + lost; accepted != want {
		t.Errorf("accepted_total = %v, want delivered + dead letters + lost = %v",
			accepted, want)
	}
	return r
}
