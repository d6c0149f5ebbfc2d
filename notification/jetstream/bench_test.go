package jetstream

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/fxpool/fxpool/notification"
	"github.com/fxpool/fxpool/pool"
)

// countingSender counts deliveries, each taking delay, and wakes whoever
// waits for a count.
type countingSender struct {
	delay time.Duration
	sent  atomic.Int64
	wake  chan struct{} // buffer of one: a pending wake-up says the same
}

func (s *countingSender) Send(context.Context, notification.Notification) error {
	if s.delay > 0 {
		timer := time.NewTimer(s.delay)
		<-timer.C
	}
	s.sent.Add(1)
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return nil
}

func (s *countingSender) waitFor(b *testing.B, n int64) {
	b.Helper()
	timer := time.NewTimer(5 * time.Minute)
	defer timer.Stop()
	for s.sent.Load() < n {
		select {
		case <-s.wake:
		case <-timer.C:
			b.Fatalf("delivered %d of %d", s.sent.Load(), n)
		}
	}
}

// benchPool has 8 workers and room for every notification of a run, so
// that memory mode never refuses one.
func benchPool() pool.Config {
	return pool.Config{
		MaxWorkers: 8, QueueSize: 1000000, ShutdownTimeoutSeconds: 60, JobTimeoutSeconds: 30,
	}
}

// BenchmarkThroughput measures notifications accepted and delivered per
// second, from 4 producers per CPU, in memory mode and in nats mode against
// an embedded server, with instant deliveries and with deliveries that take
// a millisecond, as a webhook on the same network might. It uses
// RunParallel rather than b.Loop: a publish waits for the server, and the
// HTTP API publishes from many requests at once. Both ns/op and
// notifications/s count until the last delivery.
func BenchmarkThroughput(b *testing.B) {
	for _, delay := range []time.Duration{0, time.Millisecond} {
		for _, mode := range []string{"memory", "nats"} {
			name := fmt.Sprintf("queue=%s/send=%v", mode, delay)
			b.Run(name, func(b *testing.B) {
				benchThroughput(b, mode, delay)
			})
		}
	}
}

func benchThroughput(b *testing.B, mode string, delay time.Duration) {
	sender := &countingSender{delay: delay, wake: make(chan struct{}, 1)}
	p, err := pool.New(benchPool())
	if err != nil {
		b.Fatalf("pool.New() error = %v", err)
	}
	p.Start()
	svc, err := notification.NewService(notification.ServiceConfig{Pool: p, Sender: sender})
	if err != nil {
		b.Fatalf("NewService() error = %v", err)
	}
	notifier := notification.Notifier(svc)
	if mode == "nats" {
		notifier = startBenchQueue(b, svc, p)
	}
	defer func() { _ = svc.Drain(context.Background()) }()

	var seq atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(4)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			id := "n-" + strconv.FormatInt(seq.Add(1), 10)
			notify(b, notifier, id)
		}
	})
	sender.waitFor(b, int64(b.N))
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "notifications/s")
}

// notify calls n.Notify until the notification is accepted: a full queue
// only means the producers are ahead.
func notify(b *testing.B, n notification.Notifier, id string) {
	for {
		_, err := n.Notify(context.Background(),
			notification.Notification{ID: id, Recipient: "r", Body: "b"})
		if !errors.Is(err, notification.ErrQueueFull) {
			if err != nil {
				b.Errorf("Notify(%s) = %v", id, err)
			}
			return
		}
	}
}

func startBenchQueue(b *testing.B, svc *notification.Service, p *pool.WorkerPool) *Queue {
	b.Helper()
	srv, err := NewServer(ServerConfig{StoreDir: b.TempDir()})
	if err != nil {
		b.Fatalf("NewServer() error = %v", err)
	}
	if err := srv.Start(context.Background()); err != nil {
		b.Fatalf("Server.Start() error = %v", err)
	}
	b.Cleanup(srv.Shutdown)

	q, err := New(Config{
		Server: srv, Service: svc, Pool: p, PoolConfig: benchPool(), Logger: zap.NewNop(),
	})
	if err != nil {
		b.Fatalf("New() error = %v", err)
	}
	if err := q.Start(context.Background()); err != nil {
		b.Fatalf("Start() error = %v", err)
	}
	b.Cleanup(func() { _ = q.Stop(context.Background()) })
	return q
}
