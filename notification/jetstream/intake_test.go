package jetstream

import (
	"context"
	"errors"
	"testing"

	"github.com/fxpool/fxpool/notification"
)

func TestNotifyStoresBeforeAnswering(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	release := make(chan struct{})
	defer close(release)
	sender := newRecorder(func(ctx context.Context, _ notification.Notification, _ int) error {
		<-release
		return nil
	})
	r := startReplica(t, srv.ClientURL(), sender, Config{})
	in := newInspector(t, srv.ClientURL())

	r.notify(t, "n-1")
	if got := in.messages(t); got != 1 {
		t.Errorf("stream messages after Notify = %d, want 1", got)
	}
}

func TestDuplicateIDIsStoredOnce(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	sender := newRecorder(nil)
	// One worker delivers in stream order: a second copy of dup would come
	// before last.
	cfg := Config{PoolConfig: testPool()}
	cfg.PoolConfig.MaxWorkers = 1
	r := startReplica(t, srv.ClientURL(), sender, cfg)

	r.notify(t, "dup")
	r.notify(t, "dup")
	r.notify(t, "last")
	sender.waitUntil(t, "last sent", func() bool { return sender.sent["last"] == 1 })

	if calls, _ := sender.counts(); calls["dup"] != 1 {
		t.Errorf("sends of dup = %d, want 1", calls["dup"])
	}
}

func TestNotifyRejectsInvalidAndDraining(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	r := startReplica(t, srv.ClientURL(), newRecorder(nil), Config{})

	_, err := r.queue.Notify(t.Context(), notification.Notification{Recipient: "r"})
	if !errors.Is(err, notification.ErrInvalid) {
		t.Errorf("Notify(no body) = %v, want ErrInvalid", err)
	}
	if err := r.queue.Stop(context.Background()); err != nil {
		t.Fatalf("Stop() = %v, want nil", err)
	}
	_, err = r.queue.Notify(t.Context(), notification.Notification{Recipient: "r", Body: "b"})
	if !errors.Is(err, notification.ErrShuttingDown) {
		t.Errorf("Notify() after Stop = %v, want ErrShuttingDown", err)
	}
}
