package pool

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap/zaptest"
)

func testConfig(workers, queue int) Config {
	return Config{
		MaxWorkers:             workers,
		QueueSize:              queue,
		ShutdownTimeoutSeconds: 5,
		JobTimeoutSeconds:      10,
	}
}

// newTestPool returns a started pool that logs to t, registers on a fresh
// pedantic registry, and is shut down when the test ends.
func newTestPool(t *testing.T, cfg Config, opts ...Option) (*WorkerPool, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	base := []Option{WithLogger(zaptest.NewLogger(t)), WithRegisterer(reg)}
	p, err := New(cfg, append(base, opts...)...)
	if err != nil {
		t.Fatalf("New(%+v) error = %v", cfg, err)
	}
	p.Start()
	t.Cleanup(func() { _ = p.Shutdown(context.Background()) })
	return p, reg
}

// blocker is a job body that reports its start and then waits for release or
// for its context.
type blocker struct {
	started chan struct{}
	release chan struct{}
}

func newBlocker(n int) *blocker {
	return &blocker{started: make(chan struct{}, n), release: make(chan struct{})}
}

func (b *blocker) job(name string) Job {
	return Job{Name: name, Execute: func(ctx context.Context) error {
		b.started <- struct{}{}
		select {
		case <-b.release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}}
}

func (b *blocker) waitStarted(t *testing.T, n int) {
	t.Helper()
	for range n {
		<-b.started
	}
}

func nop(name string) Job {
	return Job{Name: name, Execute: func(context.Context) error { return nil }}
}

// counts reads the pool's counters.
type counts struct {
	submitted, completed, errors, histogram float64
	queueFull, notRunning, shutdown         float64
}

func readCounts(t *testing.T, p *WorkerPool) counts {
	t.Helper()
	s := p.snapshot()
	return counts{
		submitted:  float64(s.submitted),
		completed:  float64(s.completed),
		errors:     float64(s.errors),
		histogram:  float64(s.duration.count),
		queueFull:  float64(s.dropped[DropQueueFull]),
		notRunning: float64(s.dropped[DropNotRunning]),
		shutdown:   float64(s.dropped[DropShutdown]),
	}
}

// checkAccounting asserts the invariants documented on metrics.
func checkAccounting(t *testing.T, c counts, calls int) {
	t.Helper()
	if got := c.submitted + c.queueFull + c.notRunning; got != float64(calls) {
		t.Errorf("submitted+queue_full+not_running = %v, want %d calls", got, calls)
	}
	if got := c.completed + c.shutdown; got != c.submitted {
		t.Errorf("completed+shutdown = %v, want submitted %v", got, c.submitted)
	}
	if c.errors > c.completed {
		t.Errorf("errors = %v, want <= completed %v", c.errors, c.completed)
	}
	if c.histogram != c.completed {
		t.Errorf("histogram count = %v, want completed %v", c.histogram, c.completed)
	}
}
