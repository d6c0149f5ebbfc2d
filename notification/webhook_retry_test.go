package notification

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"
)

func TestSendRetriesServerErrors(t *testing.T) {
	t.Parallel()

	ts := newServer(t, statuses(nil, 500, 502), 0)
	var rec recorder
	s := newSender(t, WebhookConfig{URL: ts.URL, OnAttempt: rec.record})

	if err := s.Send(context.Background(), testNotification()); err != nil {
		t.Fatalf("Send() = %v, want nil", err)
	}

	want := []string{ResultRetryable, ResultRetryable, ResultSuccess}
	if got := rec.list(); !slices.Equal(got, want) {
		t.Errorf("attempts = %v, want %v", got, want)
	}
}

func TestSendHonoursRetryAfter(t *testing.T) {
	t.Parallel()

	past := time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat)
	tests := []struct {
		name       string
		status     int
		retryAfter string
	}{
		{"503 with seconds", http.StatusServiceUnavailable, "0"},
		{"429 with date", http.StatusTooManyRequests, past},
		{"429 with garbage", http.StatusTooManyRequests, "soon"},
		{"408 without header", http.StatusRequestTimeout, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			header := http.Header{}
			if tt.retryAfter != "" {
				header.Set("Retry-After", tt.retryAfter)
			}
			ts := newServer(t, statuses(header, tt.status), 0)
			var rec recorder
			s := newSender(t, WebhookConfig{URL: ts.URL, OnAttempt: rec.record})

			if err := s.Send(context.Background(), testNotification()); err != nil {
				t.Fatalf("Send() = %v, want nil", err)
			}
			want := []string{ResultRetryable, ResultSuccess}
			if got := rec.list(); !slices.Equal(got, want) {
				t.Errorf("attempts = %v, want %v", got, want)
			}
		})
	}
}

func TestSendStopsWhenRetryAfterPassesDeadline(t *testing.T) {
	t.Parallel()

	header := http.Header{"Retry-After": {"7200"}}
	ts := newServer(t, statuses(header, http.StatusServiceUnavailable), 0)
	s := newSender(t, WebhookConfig{URL: ts.URL})
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()

	err := s.Send(ctx, testNotification())

	derr := asDeliveryError(t, err)
	if derr.Attempts != 1 || derr.StatusCode != http.StatusServiceUnavailable || derr.Permanent {
		t.Errorf("Send() = %+v, want 1 attempt, status 503, not permanent", derr)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Send() = %v, want it to wrap context.DeadlineExceeded", err)
	}
	if ctx.Err() != nil {
		t.Errorf("ctx.Err() = %v, want nil: Send must not wait for the deadline", ctx.Err())
	}
}

func TestSendRetriesNetworkErrors(t *testing.T) {
	t.Parallel()

	ts := newServer(t, statuses(nil), 1)
	var rec recorder
	s := newSender(t, WebhookConfig{URL: ts.URL, OnAttempt: rec.record})

	if err := s.Send(context.Background(), testNotification()); err != nil {
		t.Fatalf("Send() = %v, want nil", err)
	}

	want := []string{ResultError, ResultSuccess}
	if got := rec.list(); !slices.Equal(got, want) {
		t.Errorf("attempts = %v, want %v", got, want)
	}
}

func TestSendUnreachableStopsAtDeadline(t *testing.T) {
	t.Parallel()

	ts := newServer(t, statuses(nil), -1)
	s := newSender(t, WebhookConfig{URL: ts.URL})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()

	err := s.Send(ctx, testNotification())

	derr := asDeliveryError(t, err)
	if derr.Attempts < 1 || derr.StatusCode != 0 || derr.Permanent {
		t.Errorf("Send() = %+v, want >= 1 attempt, no status, not permanent", derr)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Send() = %v, want it to wrap context.DeadlineExceeded", err)
	}
}

func TestSendHangingEndpointBoundedByDeadline(t *testing.T) {
	t.Parallel()

	release := make(chan struct{})
	ts := newServer(t, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		<-release
	}), 0)
	// Registered after newServer, so it runs before the server's Close,
	// which waits for this handler.
	t.Cleanup(func() { close(release) })
	s := newSender(t, WebhookConfig{URL: ts.URL})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()

	err := s.Send(ctx, testNotification())

	derr := asDeliveryError(t, err)
	if derr.Attempts != 1 || derr.Permanent {
		t.Errorf("Send() = %+v, want 1 attempt, not permanent", derr)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Send() = %v, want it to wrap context.DeadlineExceeded", err)
	}
}

func TestSendCanceledContextMakesNoAttempt(t *testing.T) {
	t.Parallel()

	ts := newServer(t, statuses(nil), 0)
	s := newSender(t, WebhookConfig{URL: ts.URL})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()

	err := s.Send(ctx, testNotification())

	derr := asDeliveryError(t, err)
	if derr.Attempts != 0 || !errors.Is(err, context.Canceled) {
		t.Errorf("Send(canceled) = %v, want 0 attempts wrapping context.Canceled", err)
	}
	if n := ts.conns.Load(); n != 0 {
		t.Errorf("connections = %d, want 0", n)
	}
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()

	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name   string
		value  string
		want   time.Duration
		wantOK bool
	}{
		{"empty", "", 0, false},
		{"zero", "0", 0, true},
		{"seconds", "120", 2 * time.Minute, true},
		{"negative", "-1", 0, false},
		{"huge", "99999999999999", time.Duration(1<<63-1) / time.Second * time.Second, true},
		{"future date", now.Add(time.Minute).Format(http.TimeFormat), time.Minute, true},
		{"past date", now.Add(-time.Minute).Format(http.TimeFormat), 0, true},
		{"garbage", "soon", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			got, ok := parseRetryAfter(tt.value, now)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("parseRetryAfter(%q) = %v, %v, want %v, %v",
					tt.value, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestBackoffStaysWithinBounds(t *testing.T) {
	t.Parallel()

	s := &WebhookSender{baseBackoff: 10 * time.Millisecond, maxBackoff: 80 * time.Millisecond}
	tests := []struct {
		attempt int
		limit   time.Duration
	}{
		{1, 10 * time.Millisecond},
		{2, 20 * time.Millisecond},
		{4, 80 * time.Millisecond},
		{5, 80 * time.Millisecond},
		{1000, 80 * time.Millisecond},
	}
	for _, tt := range tests {
		for range 100 {
			if d := s.backoff(tt.attempt); d < 0 || d > tt.limit {
				t.Fatalf("backoff(%d) = %v, want in [0, %v]", tt.attempt, d, tt.limit)
			}
		}
	}
}
