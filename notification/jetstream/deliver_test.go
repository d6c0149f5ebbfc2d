package jetstream

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/fxpool/fxpool/notification"
)

func TestDeliversAndAcknowledges(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	sender := newRecorder(nil)
	r := startReplica(t, srv.ClientURL(), sender, Config{})
	in := newInspector(t, srv.ClientURL())

	for i := range 10 {
		r.notify(t, fmt.Sprintf("n-%d", i))
	}
	sender.waitSent(t, 10)
	eventually(t, "an empty stream", func() bool { return in.messages(t) == 0 })

	calls, _ := sender.counts()
	for id, n := range calls {
		if n != 1 {
			t.Errorf("sends of %s = %d, want 1", id, n)
		}
	}
	if info := in.consumer(t); info.NumAckPending != 0 || info.NumRedelivered != 0 {
		t.Errorf("consumer ack pending %d, redelivered %d, want 0 and 0",
			info.NumAckPending, info.NumRedelivered)
	}
}

func TestTransientFailureIsRetried(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	sender := newRecorder(func(_ context.Context, _ notification.Notification, call int) error {
		if call == 1 {
			return &notification.DeliveryError{Attempts: 1, StatusCode: 503, Err: errors.New("busy")}
		}
		return nil
	})
	r := startReplica(t, srv.ClientURL(), sender, Config{})

	r.notify(t, "n-1")
	sender.waitSent(t, 1)

	if calls, _ := sender.counts(); calls["n-1"] != 2 {
		t.Errorf("sends of n-1 = %d, want 2", calls["n-1"])
	}
	if got := testutil.ToFloat64(r.queue.metrics.naks.WithLabelValues(nakRetry)); got != 1 {
		t.Errorf("naks{retry} = %v, want 1", got)
	}
	if got := r.dead.list(); len(got) != 0 {
		t.Errorf("dead letters = %v, want none", got)
	}
}

func TestFinalFailureIsDeadLetteredAndAcknowledged(t *testing.T) {
	t.Parallel()
	transient := &notification.DeliveryError{Attempts: 1, StatusCode: 503, Err: errors.New("busy")}
	permanent := &notification.DeliveryError{
		Attempts: 1, StatusCode: 400, Permanent: true, Err: errors.New("bad"),
	}
	tests := []struct {
		name      string
		err       error
		wantCalls int
	}{
		{"permanent", permanent, 1},
		{"retries exhausted", transient, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := startServer(t)
			sender := newRecorder(func(context.Context, notification.Notification, int) error {
				return tt.err
			})
			r := startReplica(t, srv.ClientURL(), sender, Config{MaxDeliveries: 3})
			in := newInspector(t, srv.ClientURL())

			r.notify(t, "n-1")
			eventually(t, "a dead letter", func() bool { return len(r.dead.list()) == 1 })
			eventually(t, "an empty stream", func() bool { return in.messages(t) == 0 })

			if calls, _ := sender.counts(); calls["n-1"] != tt.wantCalls {
				t.Errorf("sends of n-1 = %d, want %d", calls["n-1"], tt.wantCalls)
			}
		})
	}
}

func TestSlowDeliveryIsNotRedelivered(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	release := make(chan struct{})
	sender := newRecorder(func(ctx context.Context, _ notification.Notification, _ int) error {
		<-release
		return nil
	})
	// The delivery outlasts AckWait several times over; only the
	// queue's in-progress signals keep the message from a second worker.
	cfg := Config{AckWait: time.Second, PoolConfig: testPool()}
	cfg.PoolConfig.JobTimeoutSeconds = 5
	r := startReplica(t, srv.ClientURL(), sender, cfg)
	in := newInspector(t, srv.ClientURL())

	r.notify(t, "slow")
	sender.waitCalls(t, 1)
	timer := time.NewTimer(3 * cfg.AckWait)
	<-timer.C // time itself is what the test is about: AckWait must pass
	close(release)
	sender.waitSent(t, 1)
	eventually(t, "an empty stream", func() bool { return in.messages(t) == 0 })

	if calls, _ := sender.counts(); calls["slow"] != 1 {
		t.Errorf("sends of slow = %d, want 1", calls["slow"])
	}
}
