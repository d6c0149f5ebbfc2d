package jetstream

import (
	"cmp"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/fxpool/fxpool/notification"
	"github.com/fxpool/fxpool/pool"
)

// Defaults of a [Config].
const (
	DefaultStream          = "NOTIFICATIONS"
	DefaultSubject         = "notifications"
	DefaultConsumer        = "notifier"
	DefaultDuplicateWindow = 2 * time.Minute
	DefaultMaxDeliveries   = 5
	DefaultRetryDelay      = time.Second
	DefaultMaxRetryDelay   = time.Minute
	DefaultFetchWait       = time.Second
	DefaultPublishTimeout  = 5 * time.Second

	// AckMargin is added to the pool's job timeout to make the default
	// AckWait: it covers the acknowledgement's round trip after a delivery
	// that used its whole timeout.
	AckMargin = 2 * time.Second
)

// Config configures a [Queue]. The zero value of every field but URL or
// Server, Service, Pool and PoolConfig selects its default.
//
// Every replica that shares a stream must use the same Stream, Subject,
// Consumer and AckWait: each creates or updates the stream and the consumer
// to its own settings when it starts.
type Config struct {
	// URL lists the NATS servers, comma-separated, such as
	// "nats://a:4222,nats://b:4222". Required unless Server is set. It may
	// hold credentials; it is never logged or returned in errors.
	URL string

	// Server, when not nil, is an embedded server to connect to once it has
	// started; it takes the place of URL.
	Server *Server

	// Service validates, counts and delivers notifications; required.
	Service *notification.Service

	// Pool runs deliveries; required. It is the service's pool.
	Pool *pool.WorkerPool

	// PoolConfig is the configuration of Pool. MaxWorkers bounds how many
	// messages the queue holds at once; JobTimeoutSeconds sets the default
	// AckWait. Required.
	PoolConfig pool.Config

	// Logger receives connection events and failed acknowledgements.
	// Default zap.NewNop().
	Logger *zap.Logger

	// Registerer receives the metrics described on [Queue]. Default: the
	// metrics are kept but not registered.
	Registerer prometheus.Registerer

	// Stream is the name of the stream, created with work-queue retention
	// and file storage when missing. Default [DefaultStream].
	Stream string

	// Subject is the subject the stream holds and notifications are
	// published on. Default [DefaultSubject].
	Subject string

	// Consumer is the name of the durable pull consumer that every
	// replica shares. Default [DefaultConsumer].
	Consumer string

	// Replicas is the number of copies of the stream in a NATS cluster:
	// 1 to 5, default 1.
	Replicas int

	// DuplicateWindow is how long the stream remembers a notification's ID:
	// a second publish with the same ID within it is acknowledged but not
	// stored again. Default [DefaultDuplicateWindow].
	DuplicateWindow time.Duration

	// AckWait is how long the server waits for a replica to acknowledge
	// or extend a delivery before it hands the message to another.
	// Default: the pool's job timeout plus [AckMargin].
	AckWait time.Duration

	// MaxDeliveries is how many times a notification is tried before a
	// failure that may pass is taken as final. Default
	// [DefaultMaxDeliveries].
	MaxDeliveries int

	// RetryDelay is the wait before the second try of a notification whose
	// delivery failed; it doubles with each further try up to
	// MaxRetryDelay. Defaults [DefaultRetryDelay] and [DefaultMaxRetryDelay].
	RetryDelay    time.Duration
	MaxRetryDelay time.Duration

	// FetchWait bounds each pull request. A replica notices Stop within it.
	// Default [DefaultFetchWait].
	FetchWait time.Duration

	// PublishTimeout bounds the wait for JetStream to acknowledge a
	// publish. Default [DefaultPublishTimeout].
	PublishTimeout time.Duration
}

// withDefaults returns c with every zero field set to its default.
func (c Config) withDefaults() Config {
	c.Logger = cmp.Or(c.Logger, zap.NewNop())
	c.Stream = cmp.Or(c.Stream, DefaultStream)
	c.Subject = cmp.Or(c.Subject, DefaultSubject)
	c.Consumer = cmp.Or(c.Consumer, DefaultConsumer)
	c.Replicas = cmp.Or(c.Replicas, 1)
	c.DuplicateWindow = cmp.Or(c.DuplicateWindow, DefaultDuplicateWindow)
	jobTimeout := time.Duration(c.PoolConfig.JobTimeoutSeconds) * time.Second
	c.AckWait = cmp.Or(c.AckWait, jobTimeout+AckMargin)
	c.MaxDeliveries = cmp.Or(c.MaxDeliveries, DefaultMaxDeliveries)
	c.RetryDelay = cmp.Or(c.RetryDelay, DefaultRetryDelay)
	c.MaxRetryDelay = cmp.Or(c.MaxRetryDelay, DefaultMaxRetryDelay)
	c.FetchWait = cmp.Or(c.FetchWait, DefaultFetchWait)
	c.PublishTimeout = cmp.Or(c.PublishTimeout, DefaultPublishTimeout)
	return c
}

// validate reports the first field of c, with its defaults set, that is
// missing or out of range.
func (c Config) validate() error {
	switch {
	case c.URL == "" && c.Server == nil:
		return errors.New("jetstream: URL or Server is required")
	case c.Service == nil || c.Pool == nil:
		return errors.New("jetstream: Service and Pool are required")
	case c.Replicas < 1 || c.Replicas > 5:
		return fmt.Errorf("jetstream: Replicas must be between 1 and 5, got %d", c.Replicas)
	case c.MaxDeliveries < 1:
		return fmt.Errorf("jetstream: MaxDeliveries must be >= 1, got %d", c.MaxDeliveries)
	}
	if err := c.PoolConfig.Validate(); err != nil {
		return fmt.Errorf("jetstream: PoolConfig: %w", err)
	}
	durations := []struct {
		name string
		d    time.Duration
	}{
		{"DuplicateWindow", c.DuplicateWindow},
		{"AckWait", c.AckWait},
		{"RetryDelay", c.RetryDelay},
		{"MaxRetryDelay", c.MaxRetryDelay},
		{"FetchWait", c.FetchWait},
		{"PublishTimeout", c.PublishTimeout},
	}
	for _, f := range durations {
		if f.d < time.Millisecond {
			return fmt.Errorf("jetstream: %s must be >= 1ms, got %v", f.name, f.d)
		}
	}
	return nil
}

// retryDelay returns the wait before delivery number delivered+1.
func (c Config) retryDelay(delivered uint64) time.Duration {
	d := c.RetryDelay
	for i := uint64(1); i < delivered && d < c.MaxRetryDelay; i++ {
		d *= 2
	}
	return min(d, c.MaxRetryDelay)
}
