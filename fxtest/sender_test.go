package fxtest

import (
	"context"
	"errors"
	"testing"

	"github.com/fxpool/fxpool/notification"
)

func TestSenderRecordsAndFails(t *testing.T) {
	t.Parallel()
	s := NewSender()
	ctx := context.Background()

	if err := s.Send(ctx, notification.Notification{ID: "a"}); err != nil {
		t.Fatalf("Send(a) = %v, want nil", err)
	}
	boom := errors.New("boom")
	s.FailWith(boom)
	if err := s.Send(ctx, notification.Notification{ID: "b"}); !errors.Is(err, boom) {
		t.Errorf("Send(b) after FailWith = %v, want %v", err, boom)
	}
	s.FailWith(nil)
	if err := s.Send(ctx, notification.Notification{ID: "c"}); err != nil {
		t.Errorf("Send(c) after FailWith(nil) = %v, want nil", err)
	}

	got := s.WaitSent(t, 2)
	if len(got) != 2 || got[0].ID != "a" || got[1].ID != "c" {
		t.Errorf("WaitSent(2) = %v, want [a c]", got)
	}
}

func TestSenderHoldsUntilReleased(t *testing.T) {
	t.Parallel()
	s := NewSender()
	release := s.Hold()

	done := make(chan error, 1)
	go func() { done <- s.Send(context.Background(), notification.Notification{ID: "held"}) }()
	s.WaitCalls(t, 1)
	if got := len(s.Sent()); got != 0 {
		t.Fatalf("Sent() while held has %d entries, want 0", got)
	}

	release()
	release()
	if err := <-done; err != nil {
		t.Errorf("Send() after release = %v, want nil", err)
	}
	if got := s.WaitSent(t, 1); got[0].ID != "held" {
		t.Errorf("WaitSent(1) = %v, want [held]", got)
	}
}

func TestSenderHoldEndsWithContext(t *testing.T) {
	t.Parallel()
	s := NewSender()
	defer s.Hold()()

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := s.Send(ctx, notification.Notification{ID: "held"})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Send() with a cancelled ctx while held = %v, want Canceled", err)
	}
}
