package notification

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"go.uber.org/zap"

	"github.com/fxpool/fxpool/pool"
)

// Errors returned by [Service.Notify] besides those matching [ErrInvalid].
var (
	ErrQueueFull     = errors.New("notification: queue full")
	ErrShuttingDown  = errors.New("notification: shutting down")
	errSenderAborted = errors.New("notification: sender panicked or exited")
)

// ServiceConfig holds what a [Service] is built from.
type ServiceConfig struct {
	Pool    *pool.WorkerPool // runs deliveries; required
	Sender  Sender           // delivers; required
	Logger  *zap.Logger      // default zap.NewNop()
	Metrics *Metrics         // default: metrics kept but not registered

	// DeadLetters, when not nil, receives every accepted notification that
	// will not be delivered: failed for good, or abandoned at shutdown.
	DeadLetters DeadLetterWriter
}

// DeadLetterWriter keeps notifications that were accepted but will not be
// delivered, so that an operator can replay them.
type DeadLetterWriter interface {
	Write(n Notification, reason string, attempts int) error
}

// Service accepts notifications from producers and delivers each through the
// pool with a [Sender]. It is safe for concurrent use.
type Service struct {
	pool        *pool.WorkerPool
	sender      Sender
	log         *zap.Logger
	metrics     *Metrics
	deadLetters DeadLetterWriter

	draining     atomic.Bool
	drainingOnce sync.Once
	drainingCh   chan struct{} // closed once when the drain begins

	// queued holds notifications that were accepted but whose job has not
	// started. Whoever removes an entry owns it: the job delivers it, or the
	// drain records it as abandoned; never both.
	mu     sync.Mutex
	seq    uint64                  // guarded by mu
	queued map[uint64]Notification // guarded by mu
}

// NewService returns a service that delivers through cfg.Pool. It does not
// start or stop the pool; see [Service.Drain].
func NewService(cfg ServiceConfig) (*Service, error) {
	if cfg.Pool == nil || cfg.Sender == nil {
		return nil, errors.New("notification: service needs a pool and a sender")
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	if cfg.Metrics == nil {
		cfg.Metrics = newMetrics()
	}
	return &Service{
		pool:        cfg.Pool,
		sender:      cfg.Sender,
		log:         cfg.Logger.Named("notification"),
		metrics:     cfg.Metrics,
		deadLetters: cfg.DeadLetters,
		queued:      make(map[uint64]Notification),
		drainingCh:  make(chan struct{}),
	}, nil
}

// Notify validates n and queues it for delivery. It returns the
// notification's ID, generated when n has none. It never blocks on the queue:
// it returns an error matching [ErrInvalid] for bad input, [ErrQueueFull]
// when the pool has no room, and [ErrShuttingDown] once the service drains.
// The delivery runs with a context of its own, not ctx.
func (s *Service) Notify(ctx context.Context, n Notification) (string, error) {
	return s.NotifyWith(ctx, n, s.submit)
}

// submit is the [EnqueueFunc] of the service's own pool.
func (s *Service) submit(_ context.Context, n Notification) error {
	seq := s.track(n)
	job := pool.Job{Name: n.ID, Execute: func(ctx context.Context) error {
		return s.deliver(ctx, seq)
	}}
	if s.pool.Submit(job) {
		return nil
	}

	s.claim(seq)
	if !s.pool.IsRunning() {
		return ErrShuttingDown
	}
	return ErrQueueFull
}

// RejectMalformed counts a request refused as malformed before it could reach
// [Service.Notify], as rejected for reason invalid; use it as
// [HandlerConfig.OnMalformed].
func (s *Service) RejectMalformed() {
	s.metrics.rejected(rejectInvalid)
}

// Ready reports whether the service accepts notifications.
func (s *Service) Ready() bool {
	return !s.draining.Load() && s.pool.IsRunning()
}

// Draining returns a channel that is closed when [Service.Drain] begins, so
// that producers can stop producing.
func (s *Service) Draining() <-chan struct{} {
	return s.drainingCh
}

// Drain stops intake, waits for the pool to drain as [pool.WorkerPool.Shutdown]
// does, and records every notification that was accepted but never ran as
// abandoned. It returns the pool's error. Drain is safe to call more than
// once; each call waits for the drain.
func (s *Service) Drain(ctx context.Context) error {
	s.draining.Store(true)
	s.drainingOnce.Do(func() { close(s.drainingCh) })
	err := s.pool.Shutdown(ctx)

	s.mu.Lock()
	left := s.queued
	s.queued = make(map[uint64]Notification)
	s.mu.Unlock()

	for _, n := range left {
		s.giveUp(n, resultAbandoned, 0, errors.New("queued when the shutdown deadline passed"))
	}
	return err
}

func (s *Service) track(n Notification) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	s.queued[s.seq] = n
	return s.seq
}

// claim removes the notification with sequence seq and reports whether it
// was still there.
func (s *Service) claim(seq uint64) (Notification, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.queued[seq]
	delete(s.queued, seq)
	return n, ok
}

// deliver is the job body of one notification. It delivers once, since the
// sender retries within the job's deadline, and records a failure for good.
func (s *Service) deliver(ctx context.Context, seq uint64) error {
	n, ok := s.claim(seq)
	if !ok {
		return nil // abandoned by the drain
	}
	_, err := s.Deliver(ctx, n, true)
	return err
}

// giveUp records a notification that will not be delivered.
func (s *Service) giveUp(n Notification, result string, attempts int, cause error) {
	s.metrics.delivered(result)
	s.log.Warn("notification not delivered",
		zap.String("id", n.ID),
		zap.String("result", result),
		zap.Int("attempts", attempts),
		zap.Error(cause),
	)
	if s.deadLetters == nil {
		return
	}
	if err := s.deadLetters.Write(n, cause.Error(), attempts); err != nil {
		s.metrics.deadLetterErrors.Inc()
		s.log.Error("dead letter not written", zap.String("id", n.ID), zap.Error(err))
	}
}
