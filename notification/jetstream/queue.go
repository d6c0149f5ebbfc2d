package jetstream

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"
)

// Bounds of the connection. connectTimeout bounds each dial; flushTimeout
// bounds the wait for the last acknowledgements to leave on Stop.
const (
	connectTimeout = 5 * time.Second
	reconnectWait  = time.Second
	flushTimeout   = 5 * time.Second
)

// state is the lifecycle of a [Queue].
type state int

const (
	stateIdle     state = iota // built, not started
	stateStarting              // connecting
	stateRunning               // connected and fetching
	stateStopped               // stopped, or failed to start
)

func (s state) String() string {
	switch s {
	case stateIdle:
		return "idle"
	case stateStarting:
		return "starting"
	case stateRunning:
		return "running"
	default:
		return "stopped"
	}
}

var (
	errNotRunning = errors.New("jetstream: queue not running")
	errStarted    = errors.New("jetstream: queue already started")
	errStopped    = errors.New("jetstream: queue stopped while starting")
)

// Queue keeps accepted notifications in a JetStream stream until a replica
// has delivered them. [Queue.Notify] publishes; every replica's queue
// fetches from one durable pull consumer, no more messages at a time than its
// pool has free workers, and delivers each with [notification.Service.Deliver].
// A delivery is acknowledged when it succeeds or fails for good, handed back
// with a growing delay when it fails for now, and kept from expiring while it
// runs. A message that a replica took and never answered, because the
// replica was killed, goes to another replica once AckWait passes, so
// deliveries are at least once: the same notification, with the same ID,
// may reach the receiver again.
//
// Metrics, registered on [Config.Registerer]:
//
//	notification_jetstream_publish_duration_seconds    histogram of publishes
//	notification_jetstream_naks_total{reason}          retry, shutdown
//	notification_jetstream_consumer_pending_messages   not yet delivered
//	notification_jetstream_consumer_ack_pending_messages
//	                                                   delivered, not acknowledged
//	notification_jetstream_consumer_redelivered_messages
//	                                                   delivered more than once
//
// The consumer gauges are read from the server at each scrape.
//
// A Queue is single-use and safe for concurrent use.
type Queue struct {
	cfg     Config
	log     *zap.Logger
	metrics *metrics

	// stopFetching is closed once, by Stop, to end the fetch loop; the
	// loop also ends when the service begins to drain.
	stopFetching chan struct{}
	stopKeeping  chan struct{} // closed once, by Stop, after the drain
	loops        sync.WaitGroup

	// freed has a buffer of one so that a finishing delivery never waits
	// to tell the fetch loop there may be room.
	freed chan struct{}

	mu    sync.Mutex
	state state               // guarded by mu
	nc    *nats.Conn          // guarded by mu; set by Start, cleared by Stop
	js    jetstream.JetStream // guarded by mu; set by Start

	// held holds the messages taken from the consumer and not yet
	// answered. Whoever removes an entry answers it: the delivery, or the
	// release on Stop; never both.
	held map[*delivery]struct{} // guarded by mu
}

// New returns a queue for cfg, with its metrics registered. It connects to
// nothing until [Queue.Start]. It returns an error for a missing or bad
// field of cfg, and when the metrics cannot be registered.
func New(cfg Config) (*Queue, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	log := cfg.Logger.Named("jetstream")
	m := newMetrics(log)
	if cfg.Registerer != nil {
		if err := m.register(cfg.Registerer); err != nil {
			return nil, err
		}
	}
	return &Queue{
		cfg:          cfg,
		log:          log,
		metrics:      m,
		stopFetching: make(chan struct{}),
		stopKeeping:  make(chan struct{}),
		freed:        make(chan struct{}, 1),
		held:         make(map[*delivery]struct{}),
	}, nil
}

// Start connects, creates or updates the stream and the consumer, and starts
// fetching. It returns an error when the server cannot be reached or refuses
// the stream or consumer within ctx; the queue is then stopped. A second
// Start returns an error.
func (q *Queue) Start(ctx context.Context) error {
	q.mu.Lock()
	if q.state != stateIdle {
		q.mu.Unlock()
		return errStarted
	}
	q.state = stateStarting
	q.mu.Unlock()

	nc, js, consumer, err := q.open(ctx)
	if err != nil {
		q.setState(stateStopped)
		return err
	}

	q.mu.Lock()
	if q.state != stateStarting {
		q.mu.Unlock()
		nc.Close()
		return errStopped // Stop ran while connecting
	}
	q.state = stateRunning
	q.nc, q.js = nc, js
	q.mu.Unlock()

	q.metrics.consumer.consumer.Store(&consumer)
	q.loops.Go(func() { q.fetchLoop(consumer) })
	q.loops.Go(q.keepAlive)
	q.log.Info("jetstream queue started",
		zap.String("stream", q.cfg.Stream),
		zap.String("consumer", q.cfg.Consumer),
		zap.Duration("ack_wait", q.cfg.AckWait),
		zap.Int("max_deliveries", q.cfg.MaxDeliveries),
	)
	return nil
}

func (q *Queue) setState(s state) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.state = s
}

// open connects and sets up the stream and the consumer.
func (q *Queue) open(
	ctx context.Context,
) (*nats.Conn, jetstream.JetStream, jetstream.Consumer, error) {
	nc, err := q.connect()
	if err != nil {
		return nil, nil, nil, err
	}
	js, consumer, err := setup(ctx, nc, q.cfg)
	if err != nil {
		nc.Close()
		return nil, nil, nil, err
	}
	return nc, js, consumer, nil
}

func (q *Queue) connect() (*nats.Conn, error) {
	url := q.cfg.URL
	if q.cfg.Server != nil {
		url = q.cfg.Server.ClientURL()
	}
	nc, err := nats.Connect(url,
		nats.Name("notifier"),
		nats.Timeout(connectTimeout),
		nats.ReconnectWait(reconnectWait),
		nats.MaxReconnects(-1),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				q.log.Warn("nats disconnected", zap.Error(err))
			}
		}),
		nats.ReconnectHandler(func(*nats.Conn) { q.log.Info("nats reconnected") }),
	)
	if err != nil {
		// The error of nats.Connect names no URL, which may hold a password.
		return nil, fmt.Errorf("jetstream: connect: %w", err)
	}
	return nc, nil
}

// Stop stops fetching, waits for the service's pool to drain as
// [notification.Service.Drain] does, hands every message that was taken but
// never started back to the stream for another replica, and closes the
// connection once the last acknowledgements are sent. Deliveries cut by the
// drain's deadline are handed back as they return; one that ignores its
// context goes to another replica once AckWait passes. Stop returns an error
// only when the last acknowledgements could not be sent to a connected
// server; the drain's error is the pool's to report. Stop is safe to call
// more than once and before Start; a Stop while Start connects makes Start
// fail.
func (q *Queue) Stop(ctx context.Context) error {
	q.mu.Lock()
	nc := q.nc
	q.nc = nil
	q.state = stateStopped
	q.mu.Unlock()
	if nc == nil {
		return nil // not started, a second Stop, or a Start that failed
	}

	close(q.stopFetching)
	_ = q.cfg.Service.Drain(ctx)
	left := q.release()
	close(q.stopKeeping)
	q.loops.Wait()

	var err error
	if nc.IsConnected() {
		err = nc.FlushTimeout(flushTimeout)
	}
	nc.Close()
	q.log.Info("jetstream queue stopped", zap.Int("released", left))
	if err != nil {
		return fmt.Errorf("jetstream: flush acknowledgements: %w", err)
	}
	return nil
}

// release hands back the messages whose delivery never started and returns
// how many there were.
func (q *Queue) release() int {
	q.mu.Lock()
	var left []*delivery
	for d := range q.held {
		if !d.started {
			left = append(left, d)
			delete(q.held, d)
		}
	}
	q.mu.Unlock()

	for _, d := range left {
		q.nak(d, 0, nakShutdown)
	}
	return len(left)
}
