package jetstream

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap/zaptest"

	"github.com/fxpool/fxpool/notification"
	"github.com/fxpool/fxpool/pool"
)

// waitLimit bounds every wait in these tests. It only ends a test that has
// already failed.
const waitLimit = 30 * time.Second

// startServer starts an embedded server that stores under a fresh
// directory and stops when the test ends.
func startServer(t *testing.T) *Server {
	t.Helper()
	return startServerIn(t, t.TempDir())
}

func startServerIn(t *testing.T, dir string) *Server {
	t.Helper()
	srv, err := NewServer(ServerConfig{StoreDir: dir, Logger: zaptest.NewLogger(t)})
	if err != nil {
		t.Fatalf("NewServer() error = %v", err)
	}
	if err := srv.Start(t.Context()); err != nil {
		t.Fatalf("Server.Start() error = %v", err)
	}
	t.Cleanup(srv.Shutdown)
	return srv
}

// recorder is a sender that records each call and answers with what reply
// returns for it. It is safe for concurrent use.
type recorder struct {
	reply func(ctx context.Context, n notification.Notification, call int) error

	mu      sync.Mutex
	calls   map[string]int // guarded by mu; Send calls by ID
	sent    map[string]int // guarded by mu; successful Sends by ID
	changed chan struct{}  // guarded by mu; closed on every change
}

func newRecorder(reply func(context.Context, notification.Notification, int) error) *recorder {
	if reply == nil {
		reply = func(context.Context, notification.Notification, int) error { return nil }
	}
	return &recorder{
		reply:   reply,
		calls:   map[string]int{},
		sent:    map[string]int{},
		changed: make(chan struct{}),
	}
}

func (r *recorder) Send(ctx context.Context, n notification.Notification) error {
	r.mu.Lock()
	r.calls[n.ID]++
	call := r.calls[n.ID]
	r.signalLocked()
	r.mu.Unlock()

	err := r.reply(ctx, n, call)

	r.mu.Lock()
	defer r.mu.Unlock()
	if err == nil {
		r.sent[n.ID]++
	}
	r.signalLocked()
	return err
}

func (r *recorder) signalLocked() {
	close(r.changed)
	r.changed = make(chan struct{})
}

// counts returns copies of the calls and the successful sends by ID.
func (r *recorder) counts() (calls, sent map[string]int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	calls, sent = map[string]int{}, map[string]int{}
	for k, v := range r.calls {
		calls[k] = v
	}
	for k, v := range r.sent {
		sent[k] = v
	}
	return calls, sent
}

// waitUntil waits until cond, called with r.mu held, reports true.
func (r *recorder) waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	timer := time.NewTimer(waitLimit)
	defer timer.Stop()
	for {
		r.mu.Lock()
		if cond() {
			r.mu.Unlock()
			return
		}
		changed := r.changed
		r.mu.Unlock()
		select {
		case <-changed:
		case <-timer.C:
			t.Fatalf("waited %v for %s", waitLimit, what)
		}
	}
}

// waitSent waits until n distinct notifications were sent.
func (r *recorder) waitSent(t *testing.T, n int) {
	t.Helper()
	r.waitUntil(t, fmt.Sprintf("%d notifications sent", n), func() bool { return len(r.sent) >= n })
}

// waitCalls waits until Send was called n times in all.
func (r *recorder) waitCalls(t *testing.T, n int) {
	t.Helper()
	r.waitUntil(t, fmt.Sprintf("%d sends", n), func() bool {
		total := 0
		for _, c := range r.calls {
			total += c
		}
		return total >= n
	})
}

// eventually polls cond until it reports true. It is for state held by the
// server, which sends no event when it changes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	timer := time.NewTimer(waitLimit)
	defer timer.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-tick.C:
		case <-timer.C:
			t.Fatalf("waited %v for %s", waitLimit, what)
		}
	}
}

// replica is one service with its pool and queue, as a replica of the
// notifier runs them.
type replica struct {
	queue    *Queue
	service  *notification.Service
	pool     *pool.WorkerPool
	registry *prometheus.Registry
	dead     *deadLetters
}

// testPool is the pool of a replica: two workers, with one-second job
// timeouts so that AckWait is three seconds.
func testPool() pool.Config {
	return pool.Config{
		MaxWorkers: 2, QueueSize: 4, ShutdownTimeoutSeconds: 5, JobTimeoutSeconds: 1,
	}
}

// newTestPool returns a started pool of [testPool] that is shut down when
// the test ends.
func newTestPool(t *testing.T) *pool.WorkerPool {
	t.Helper()
	p, err := pool.New(testPool(), pool.WithLogger(zaptest.NewLogger(t)))
	if err != nil {
		t.Fatalf("pool.New() error = %v", err)
	}
	p.Start()
	t.Cleanup(func() { _ = p.Shutdown(context.Background()) })
	return p
}

// newTestService returns a service on a pool of its own that delivers to
// nowhere, for tests that never deliver.
func newTestService(t *testing.T) *notification.Service {
	t.Helper()
	svc, err := notification.NewService(notification.ServiceConfig{
		Pool: newTestPool(t), Sender: newRecorder(nil),
	})
	if err != nil {
		t.Fatalf("NewService() error = %v", err)
	}
	return svc
}

// startReplica starts a replica that delivers with s through the server at
// url, with cfg's tuning on top of fast retries and short fetches. It stops when the test
// ends, if it has not been stopped.
func startReplica(t *testing.T, url string, s notification.Sender, cfg Config) *replica {
	t.Helper()
	log := zaptest.NewLogger(t)
	pc := cfg.PoolConfig
	if pc == (pool.Config{}) {
		pc = testPool()
	}
	p, err := pool.New(pc, pool.WithLogger(log))
	if err != nil {
		t.Fatalf("pool.New() error = %v", err)
	}
	p.Start()
	dead := &deadLetters{}
	svc, err := notification.NewService(notification.ServiceConfig{
		Pool: p, Sender: s, Logger: log, DeadLetters: dead,
	})
	if err != nil {
		t.Fatalf("NewService() error = %v", err)
	}

	reg := prometheus.NewPedanticRegistry()
	cfg.URL, cfg.Service, cfg.Pool, cfg.PoolConfig = url, svc, p, pc
	cfg.Logger, cfg.Registerer = log, reg
	if cfg.RetryDelay == 0 {
		cfg.RetryDelay = 10 * time.Millisecond
	}
	if cfg.FetchWait == 0 {
		cfg.FetchWait = 200 * time.Millisecond // Stop waits for the last fetch
	}
	q, err := New(cfg)
	if err != nil {
		t.Fatalf("New() error = %v", err)
	}
	if err := q.Start(t.Context()); err != nil {
		t.Fatalf("Start() error = %v", err)
	}
	t.Cleanup(func() {
		if err := q.Stop(context.Background()); err != nil {
			t.Errorf("Stop() at cleanup = %v", err)
		}
	})
	return &replica{queue: q, service: svc, pool: p, registry: reg, dead: dead}
}

// notify publishes a notification with the given ID through r.
func (r *replica) notify(t *testing.T, id string) {
	t.Helper()
	n := notification.Notification{ID: id, Recipient: "r", Body: "b"}
	got, err := r.queue.Notify(t.Context(), n)
	if err != nil || got != id {
		t.Fatalf("Notify(%s) = %q, %v, want %q, nil", id, got, err, id)
	}
}

// deadLetters records the IDs of dead letters.
type deadLetters struct {
	mu  sync.Mutex
	ids []string // guarded by mu
}

func (d *deadLetters) Write(n notification.Notification, _ string, _ int) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.ids = append(d.ids, n.ID)
	return nil
}

func (d *deadLetters) list() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.ids...)
}

// inspector reads the stream and the consumer on the server, apart from any
// replica.
type inspector struct {
	js jetstream.JetStream
}

func newInspector(t *testing.T, url string) inspector {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatalf("nats.Connect() error = %v", err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatalf("jetstream.New() error = %v", err)
	}
	return inspector{js: js}
}

// messages returns the number of messages in the stream.
func (in inspector) messages(t *testing.T) uint64 {
	t.Helper()
	s, err := in.js.Stream(t.Context(), DefaultStream)
	if err != nil {
		t.Fatalf("Stream(%s) error = %v", DefaultStream, err)
	}
	info, err := s.Info(t.Context())
	if err != nil {
		t.Fatalf("Stream.Info() error = %v", err)
	}
	return info.State.Msgs
}

// consumer returns the state of the shared consumer.
func (in inspector) consumer(t *testing.T) *jetstream.ConsumerInfo {
	t.Helper()
	c, err := in.js.Consumer(t.Context(), DefaultStream, DefaultConsumer)
	if err != nil {
		t.Fatalf("Consumer(%s) error = %v", DefaultConsumer, err)
	}
	info, err := c.Info(t.Context())
	if err != nil {
		t.Fatalf("Consumer.Info() error = %v", err)
	}
	return info
}
