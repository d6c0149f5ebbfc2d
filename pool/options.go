package pool

import (
	"fmt"
	"regexp"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
)

// An Option configures a [WorkerPool] in [New].
type Option interface {
	apply(*options)
}

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

type options struct {
	logger     *zap.Logger
	registerer prometheus.Registerer
	name       string
	onDrop     func(Job, DropReason)
}

var namePattern = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

func (o *options) validate() error {
	if o.name != "" && !namePattern.MatchString(o.name) {
		return fmt.Errorf("pool: name must match [a-zA-Z_][a-zA-Z0-9_]*, got %q", o.name)
	}
	if o.logger == nil {
		return fmt.Errorf("pool: logger must not be nil")
	}
	return nil
}

// WithLogger sets the logger for lifecycle events, refused and abandoned jobs,
// and recovered panics. The default discards everything.
func WithLogger(l *zap.Logger) Option {
	return optionFunc(func(o *options) { o.logger = l })
}

// WithRegisterer registers the pool's metrics on r. By default the metrics are
// kept but not registered anywhere. [New] fails if any of them cannot be
// registered, for example because a pool of the same name already is.
func WithRegisterer(r prometheus.Registerer) Option {
	return optionFunc(func(o *options) { o.registerer = r })
}

// WithName prefixes the metric names with "<name>_worker_pool_" instead of
// "worker_pool_", so that several pools can share a registry. The name must
// match [a-zA-Z_][a-zA-Z0-9_]*. The default is no name.
func WithName(name string) Option {
	return optionFunc(func(o *options) { o.name = name })
}

// WithDropHandler calls fn with every job the pool does not run, and why: jobs
// refused by [WorkerPool.Submit] or [WorkerPool.SubmitWait], and accepted jobs
// abandoned by [WorkerPool.Shutdown] (reason [DropShutdown]). Only the latter
// are lost without the submitter knowing, so handlers usually keep those and
// ignore the rest. fn runs on the goroutine that dropped the job, holding no
// lock of the pool; it must not block for long. The default does nothing.
func WithDropHandler(fn func(Job, DropReason)) Option {
	return optionFunc(func(o *options) { o.onDrop = fn })
}
