package fxtest

import (
	"strconv"
	"testing"

	"go.uber.org/fx"
	uberfxtest "go.uber.org/fx/fxtest"
	"go.uber.org/zap/zaptest"

	"github.com/fxpool/fxpool/modules"
	"github.com/fxpool/fxpool/notification"
	"github.com/fxpool/fxpool/pool"
)

// PoolConfig returns the small pool that [New] uses: 2 workers, a queue of 8,
// and 5-second job and shutdown timeouts.
func PoolConfig() pool.Config {
	return pool.Config{
		MaxWorkers:             2,
		QueueSize:              8,
		ShutdownTimeoutSeconds: 5,
		JobTimeoutSeconds:      5,
	}
}

// Env returns the variables that [New] puts in the graph as the
// [modules.Environment]: the pool of [PoolConfig] and a listener on
// 127.0.0.1 on a free port. Unlisted variables take their defaults.
func Env() map[string]string {
	c := PoolConfig()
	return map[string]string{
		"WORKER_POOL_MAX_WORKERS":              strconv.Itoa(c.MaxWorkers),
		"WORKER_POOL_QUEUE_SIZE":               strconv.Itoa(c.QueueSize),
		"WORKER_POOL_SHUTDOWN_TIMEOUT_SECONDS": strconv.Itoa(c.ShutdownTimeoutSeconds),
		"WORKER_POOL_JOB_TIMEOUT_SECONDS":      strconv.Itoa(c.JobTimeoutSeconds),
		"NOTIFIER_HTTP_ADDR":                   "127.0.0.1:0",
	}
}

// New returns an application of [modules.Metrics], [modules.WorkerPool],
// [modules.Notification] and [modules.HTTP] for tb, not yet started. It logs
// to tb, registers metrics on a fresh registry, reads its configuration from
// [Env] rather than the process environment, and delivers to the log. opts
// come last and may replace any configuration, for example with
// fx.Replace(pool.Config{...}), or the sender with [WithSender].
func New(tb testing.TB, opts ...fx.Option) *uberfxtest.App {
	tb.Helper()
	return uberfxtest.New(tb,
		fx.Supply(zaptest.NewLogger(tb)),
		modules.Metrics,
		modules.WorkerPool,
		modules.Notification,
		modules.HTTP,
		fx.Supply(fx.Annotate(modules.MapEnvironment(Env()), fx.As(new(modules.Environment)))),
		fx.Options(opts...),
	)
}

// WithSender makes the application deliver through s instead of the sender
// that [modules.Notification] builds.
func WithSender(s notification.Sender) fx.Option {
	return fx.Decorate(func(notification.Sender) notification.Sender { return s })
}
