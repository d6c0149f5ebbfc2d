package modules

import (
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/fxpool/fxpool/pool"
)

// PoolName is the metric name of the pool that [WorkerPool] provides: its
// families start with "notification_worker_pool_".
const PoolName = "notification"

// WorkerPool provides a [pool.Config] read from the WORKER_POOL_ variables and
// a *pool.WorkerPool built from it. The pool logs to the graph's *zap.Logger,
// registers its metrics on the graph's prometheus.Registerer, starts on
// application start and drains on stop. Replace the configuration in tests
// with fx.Replace(pool.Config{...}).
var WorkerPool = fx.Module("worker_pool",
	fx.Provide(newPoolConfig, newWorkerPool),
)

// PoolConfigFromEnv reads a [pool.Config] from the variables
// WORKER_POOL_MAX_WORKERS, WORKER_POOL_QUEUE_SIZE,
// WORKER_POOL_SHUTDOWN_TIMEOUT_SECONDS and WORKER_POOL_JOB_TIMEOUT_SECONDS.
// Unset or empty variables take their defaults. The error is an [*EnvError]
// naming the variable.
func PoolConfigFromEnv() (pool.Config, error) {
	return newPoolConfig(envParams{})
}

func newPoolConfig(p envParams) (pool.Config, error) {
	var c pool.Config
	return c, loadEnv("WORKER_POOL_", &c, p.lookuper())
}

type workerPoolParams struct {
	fx.In

	Config     pool.Config
	Logger     *zap.Logger
	Registerer prometheus.Registerer
	Lifecycle  fx.Lifecycle
}

func newWorkerPool(p workerPoolParams) (*pool.WorkerPool, error) {
	wp, err := pool.New(p.Config,
		pool.WithLogger(p.Logger),
		pool.WithRegisterer(p.Registerer),
		pool.WithName(PoolName),
	)
	if err != nil {
		return nil, err
	}
	// Start takes no context: the workers outlive OnStart and run on the
	// pool's own context.
	p.Lifecycle.Append(fx.StartStopHook(wp.Start, wp.Shutdown))
	return wp, nil
}
