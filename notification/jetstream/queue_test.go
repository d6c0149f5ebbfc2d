package jetstream

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/fxpool/fxpool/notification"
)

// TestReplicasShareAndStopLeavesRest checks that two replicas share one
// consumer and that a replica that stops finishes what it runs and leaves
// the rest to the other.
func TestReplicasShareAndStopLeavesRest(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	releaseA := make(chan struct{})
	senderA := newRecorder(func(ctx context.Context, _ notification.Notification, _ int) error {
		<-releaseA
		return nil
	})
	releaseB := make(chan struct{})
	senderB := newRecorder(func(ctx context.Context, _ notification.Notification, _ int) error {
		<-releaseB
		return nil
	})
	a := startReplica(t, srv.ClientURL(), senderA, Config{})
	startReplica(t, srv.ClientURL(), senderB, Config{})

	const total = 20
	for i := range total {
		a.notify(t, fmt.Sprintf("n-%d", i))
	}
	workers := testPool().MaxWorkers
	senderA.waitCalls(t, workers)
	senderB.waitCalls(t, workers)

	stopped := make(chan error, 1)
	go func() { stopped <- a.queue.Stop(context.Background()) }()
	<-a.service.Draining()
	close(releaseA)
	if err := <-stopped; err != nil {
		t.Fatalf("Stop() = %v, want nil", err)
	}
	close(releaseB)
	senderB.waitSent(t, total-workers)

	callsA, sentA := senderA.counts()
	callsB, _ := senderB.counts()
	if len(sentA) != workers {
		t.Errorf("replica A sent %d, want the %d it was running", len(sentA), workers)
	}
	for i := range total {
		id := fmt.Sprintf("n-%d", i)
		if callsA[id]+callsB[id] != 1 {
			t.Errorf("sends of %s = %d by A and %d by B, want 1 in all", id, callsA[id], callsB[id])
		}
	}
}

// TestCutDrainHandsBackRunning checks that deliveries cancelled by a drain
// that runs out of time go back to the stream at once.
func TestCutDrainHandsBackRunning(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	senderA := newRecorder(func(ctx context.Context, _ notification.Notification, _ int) error {
		<-ctx.Done()
		return &notification.DeliveryError{Attempts: 1, Err: ctx.Err()}
	})
	cfg := Config{PoolConfig: testPool()}
	cfg.PoolConfig.ShutdownTimeoutSeconds = 1
	cfg.PoolConfig.JobTimeoutSeconds = 30
	a := startReplica(t, srv.ClientURL(), senderA, cfg)
	a.notify(t, "n-1")
	senderA.waitCalls(t, 1)

	if err := a.queue.Stop(context.Background()); err != nil {
		t.Fatalf("Stop() = %v, want nil", err)
	}
	if got := testutil.ToFloat64(a.queue.metrics.naks.WithLabelValues(nakShutdown)); got != 1 {
		t.Errorf("naks{shutdown} = %v, want 1", got)
	}

	senderB := newRecorder(nil)
	startReplica(t, srv.ClientURL(), senderB, Config{})
	senderB.waitSent(t, 1)
}

func TestStartTwiceFails(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	r := startReplica(t, srv.ClientURL(), newRecorder(nil), Config{})

	if err := r.queue.Start(t.Context()); !errors.Is(err, errStarted) {
		t.Errorf("second Start() = %v, want errStarted", err)
	}
}

func TestStopBeforeStartMakesStartFail(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	q, err := New(Config{
		URL: srv.ClientURL(), Service: newTestService(t), Pool: newTestPool(t), PoolConfig: testPool(),
	})
	if err != nil {
		t.Fatalf("New() error = %v", err)
	}
	if err := q.Stop(context.Background()); err != nil {
		t.Errorf("Stop() before Start = %v, want nil", err)
	}
	if err := q.Start(t.Context()); err == nil {
		t.Error("Start() after Stop = nil, want an error")
	}
}

func TestStartFailsWithoutServer(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	url := srv.ClientURL()
	srv.Shutdown()
	q, err := New(Config{
		URL: url, Service: newTestService(t), Pool: newTestPool(t), PoolConfig: testPool(),
	})
	if err != nil {
		t.Fatalf("New() error = %v", err)
	}
	err = q.Start(t.Context())
	if err == nil || !strings.HasPrefix(err.Error(), "jetstream: connect:") {
		t.Errorf("Start() with no server = %v, want a connect error", err)
	}
}
