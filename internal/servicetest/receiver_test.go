package servicetest

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"
)

// deliver posts a delivery with key to url, as the notifier does, and
// returns the status.
func deliver(ctx context.Context, url, key string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader("{}"))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Idempotency-Key", key)
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	_ = resp.Body.Close() // only the status matters
	return resp.StatusCode, nil
}

// mustDeliver is deliver that fails the test unless the receiver answers
// want.
func mustDeliver(t *testing.T, r *Receiver, key string, want int) {
	t.Helper()
	if code, err := deliver(t.Context(), r.URL(), key); err != nil || code != want {
		t.Fatalf("deliver(%s) = %d, %v, want %d", key, code, err, want)
	}
}

func TestReceiverCountsDeliveriesByKey(t *testing.T) {
	t.Parallel()
	r := NewReceiver(t, 0)
	reached := r.Reached(3)

	for _, key := range []string{"a", "b", "a"} {
		mustDeliver(t, r, key, http.StatusOK)
	}

	WaitClosed(t, nil, reached, "3 deliveries")
	if got, want := r.Deliveries(), map[string]int{"a": 2, "b": 1}; !maps.Equal(got, want) {
		t.Errorf("Deliveries() = %v, want %v", got, want)
	}
	if got := r.Total(); got != 3 {
		t.Errorf("Total() = %d, want 3", got)
	}
	WaitClosed(t, nil, r.Reached(2), "a count already reached")
}

func TestReceiverCountsOnlyDeliveriesAnsweredOK(t *testing.T) {
	t.Parallel()
	r := NewReceiver(t, 0)

	r.SetStatus(http.StatusBadRequest)
	mustDeliver(t, r, "refused", http.StatusBadRequest)
	r.SetStatus(http.StatusOK)
	mustDeliver(t, r, "accepted", http.StatusOK)

	if got, want := r.Deliveries(), map[string]int{"accepted": 1}; !maps.Equal(got, want) {
		t.Errorf("Deliveries() = %v, want %v", got, want)
	}
}

func TestReceiverHoldsFirstDelivery(t *testing.T) {
	t.Parallel()
	r := NewReceiver(t, 0)
	r.HoldFirst(time.Hour)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	held := make(chan error, 1) // written once by the held sender

	go func() {
		_, err := deliver(ctx, r.URL(), "held")
		held <- err
	}()
	WaitClosed(t, nil, r.Started(), "the first delivery")
	mustDeliver(t, r, "second", http.StatusOK)
	cancel()

	if err := <-held; err == nil {
		t.Error("held delivery returned no error after its sender gave up, want one")
	}
	if got, want := r.Deliveries(), map[string]int{"second": 1}; !maps.Equal(got, want) {
		t.Errorf("Deliveries() = %v, want %v: a delivery the sender gave up on counts",
			got, want)
	}
}

// recorder is a [testing.TB] that records the errors reported to it.
type recorder struct {
	testing.TB
	errors []string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func TestCheckDeliveredOnce(t *testing.T) {
	t.Parallel()
	keys := map[string]int{"once": 1, "twice": 2, "refused": 1}
	tests := []struct {
		name     string
		accepted []string
		refused  []string
		want     int
	}{
		{"all as answered", []string{"once"}, []string{"never"}, 0},
		{"accepted twice", []string{"once", "twice"}, nil, 1},
		{"accepted never", []string{"never"}, nil, 1},
		{"refused but delivered", nil, []string{"refused"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := &recorder{TB: t}
			CheckDeliveredOnce(rec, keys, tt.accepted, tt.refused)
			if len(rec.errors) != tt.want {
				t.Errorf("CheckDeliveredOnce(%v, %v) reported %q, want %d errors",
					tt.accepted, tt.refused, rec.errors, tt.want)
			}
		})
	}
}
