package notification

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

func TestLogSenderLogsSizesNotText(t *testing.T) {
	t.Parallel()

	core, logs := observer.New(zapcore.DebugLevel)
	s := NewLogSender(zap.New(core))
	n := Notification{
		ID:        "n-1",
		Recipient: "ada@example.com",
		Subject:   "private subject",
		Body:      "private body text",
	}

	if err := s.Send(context.Background(), n); err != nil {
		t.Fatalf("Send() = %v, want nil", err)
	}

	entries := logs.All()
	if len(entries) != 1 {
		t.Fatalf("log entries = %d, want 1", len(entries))
	}
	e := entries[0]
	if e.Level != zapcore.InfoLevel || e.Message != "notification delivered" {
		t.Errorf("log entry = %v %q, want info %q", e.Level, e.Message, "notification delivered")
	}

	want := map[string]any{
		"id":            "n-1",
		"recipient":     "ada@example.com",
		"subject_bytes": int64(len(n.Subject)),
		"body_bytes":    int64(len(n.Body)),
	}
	got := e.ContextMap()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("field %s = %v, want %v", k, got[k], v)
		}
	}

	text := fmt.Sprint(got)
	for _, secret := range []string{n.Body, n.Subject} {
		if strings.Contains(text, secret) {
			t.Errorf("log fields = %s, want no %q", text, secret)
		}
	}
}

func TestLogSenderNilLogger(t *testing.T) {
	t.Parallel()

	s := NewLogSender(nil)
	if err := s.Send(context.Background(), Notification{ID: "n-1", Body: "b"}); err != nil {
		t.Errorf("Send() = %v, want nil", err)
	}
}

func TestLogSenderCanceledContext(t *testing.T) {
	t.Parallel()

	core, logs := observer.New(zapcore.DebugLevel)
	s := NewLogSender(zap.New(core))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()

	err := s.Send(ctx, Notification{ID: "n-1", Body: "b"})

	var derr *DeliveryError
	if !errors.As(err, &derr) || !errors.Is(err, context.Canceled) {
		t.Errorf("Send(canceled) = %v, want a *DeliveryError wrapping context.Canceled", err)
	}
	if n := logs.Len(); n != 0 {
		t.Errorf("log entries = %d, want 0", n)
	}
}
