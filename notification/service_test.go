package notification

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/zap/zaptest"

	"github.com/fxpool/fxpool/pool"
)

// fakeSender returns err, or panics when panics is set, and records the IDs
// it is given. hold, when not nil, makes Send wait for it to be closed.
type fakeSender struct {
	err     error
	panics  bool
	hold    chan struct{}
	started chan string

	mu  sync.Mutex
	ids []string // guarded by mu
}

func (f *fakeSender) Send(ctx context.Context, n Notification) error {
	if f.started != nil {
		f.started <- n.ID
	}
	if f.hold != nil {
		<-f.hold
	}
	if f.panics {
		panic("sender bug")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ids = append(f.ids, n.ID)
	return f.err
}

// fakeDeadLetters records what it is given.
type fakeDeadLetters struct {
	mu      sync.Mutex
	letters []DeadLetter // guarded by mu
}

func (f *fakeDeadLetters) Write(n Notification, reason string, attempts int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.letters = append(f.letters, DeadLetter{Notification: n, Reason: reason, Attempts: attempts})
	return nil
}

func newTestService(
	t *testing.T,
	cfg pool.Config,
	s Sender,
	dl DeadLetterWriter,
) (*Service, *Metrics) {
	t.Helper()
	p := newStartedPool(t, cfg)
	m := newMetrics()
	svc, err := NewService(ServiceConfig{
		Pool: p, Sender: s, Logger: zaptest.NewLogger(t), Metrics: m, DeadLetters: dl,
	})
	if err != nil {
		t.Fatalf("NewService() error = %v", err)
	}
	t.Cleanup(func() { _ = svc.Drain(context.Background()) })
	return svc, m
}

// newStartedPool returns a started pool that logs to t.
func newStartedPool(t *testing.T, cfg pool.Config) *pool.WorkerPool {
	t.Helper()
	p, err := pool.New(cfg, pool.WithLogger(zaptest.NewLogger(t)))
	if err != nil {
		t.Fatalf("pool.New() error = %v", err)
	}
	p.Start()
	t.Cleanup(func() { _ = p.Shutdown(context.Background()) })
	return p
}

func smallPool(workers, queue int) pool.Config {
	return pool.Config{
		MaxWorkers:             workers,
		QueueSize:              queue,
		ShutdownTimeoutSeconds: 5,
		JobTimeoutSeconds:      5,
	}
}

func TestNotifyDelivers(t *testing.T) {
	t.Parallel()
	sender := &fakeSender{}
	svc, m := newTestService(t, smallPool(2, 4), sender, nil)

	id, err := svc.Notify(context.Background(), Notification{Recipient: "r", Body: "b"})
	if err != nil || id == "" {
		t.Fatalf("Notify() = %q, %v, want a generated id", id, err)
	}
	if err := svc.Drain(context.Background()); err != nil {
		t.Fatalf("Drain() = %v, want nil", err)
	}
	if len(sender.ids) != 1 || sender.ids[0] != id {
		t.Errorf("sent %v, want [%s]", sender.ids, id)
	}
	if got := testutil.ToFloat64(m.deliveries.WithLabelValues(resultDelivered)); got != 1 {
		t.Errorf("deliveries{delivered} = %v, want 1", got)
	}
}

func TestNotifyErrorsAreDistinct(t *testing.T) {
	t.Parallel()
	sender := &fakeSender{hold: make(chan struct{}), started: make(chan string, 1)}
	svc, m := newTestService(t, smallPool(1, 1), sender, nil)
	defer close(sender.hold)
	ctx := context.Background()

	if _, err := svc.Notify(ctx, Notification{Recipient: "r"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("Notify(no body) = %v, want ErrInvalid", err)
	}

	n := Notification{Recipient: "r", Body: "b"}
	if _, err := svc.Notify(ctx, n); err != nil {
		t.Fatalf("Notify() to an idle worker = %v, want nil", err)
	}
	<-sender.started
	if _, err := svc.Notify(ctx, n); err != nil {
		t.Fatalf("Notify() to an empty queue = %v, want nil", err)
	}
	if _, err := svc.Notify(ctx, n); !errors.Is(err, ErrQueueFull) {
		t.Errorf("Notify() with the queue full = %v, want ErrQueueFull", err)
	}

	go func() { _ = svc.Drain(ctx) }()
	<-svc.Draining()
	if _, err := svc.Notify(ctx, n); !errors.Is(err, ErrShuttingDown) {
		t.Errorf("Notify() while draining = %v, want ErrShuttingDown", err)
	}
	if svc.Ready() {
		t.Error("Ready() while draining = true, want false")
	}

	for reason, want := range map[string]float64{
		rejectInvalid: 1, rejectQueueFull: 1, rejectShuttingDown: 1,
	} {
		if got := testutil.ToFloat64(m.rejections.WithLabelValues(reason)); got != want {
			t.Errorf("rejected{%s} = %v, want %v", reason, got, want)
		}
	}
}

func TestNotifyWithDoneContextIsRefused(t *testing.T) {
	t.Parallel()
	svc, _ := newTestService(t, smallPool(1, 1), &fakeSender{}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := svc.Notify(ctx, Notification{Recipient: "r", Body: "b"})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Notify(cancelled ctx) = %v, want Canceled", err)
	}
}

func TestFailedDeliveryIsDeadLettered(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		sender   *fakeSender
		attempts int
	}{
		{"final status", &fakeSender{err: &DeliveryError{
			Attempts: 3, StatusCode: 400,
			Permanent: true, Err: errors.New("bad request"),
		}}, 3},
		{"panicking sender", &fakeSender{panics: true}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dl := &fakeDeadLetters{}
			svc, m := newTestService(t, smallPool(1, 1), tt.sender, dl)

			id, err := svc.Notify(context.Background(),
				Notification{ID: "n-1", Recipient: "r", Body: "b"})
			if err != nil {
				t.Fatalf("Notify() = %q, %v, want nil error", id, err)
			}
			if err := svc.Drain(context.Background()); err != nil {
				t.Fatalf("Drain() = %v, want nil", err)
			}

			if len(dl.letters) != 1 || dl.letters[0].Notification.ID != "n-1" ||
				dl.letters[0].Attempts != tt.attempts {
				t.Errorf("dead letters = %+v, want n-1 with %d attempts", dl.letters, tt.attempts)
			}
			if got := testutil.ToFloat64(m.deliveries.WithLabelValues(resultFailed)); got != 1 {
				t.Errorf("deliveries{failed} = %v, want 1", got)
			}
		})
	}
}
