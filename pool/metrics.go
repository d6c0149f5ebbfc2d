package pool

import (
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Histogram buckets, in seconds. Jobs are expected to take from a millisecond
// (a log line) to tens of seconds (a slow webhook within its timeout), so the
// buckets span that range roughly evenly on a log scale.
var durationBuckets = []float64{
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
}

// Queue waits start lower: a healthy pool hands a job over in microseconds,
// and a backed-up one makes it wait seconds.
var waitBuckets = []float64{
	0.00001, 0.0001, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60,
}

// metrics holds the pool's collectors. They exist whether or not they are
// registered, so the counts are always kept.
//
// The accounting they follow: every Submit is counted once, as submitted or
// as dropped with reason queue_full or not_running. Every submitted job ends
// as completed, or as dropped with reason shutdown. errors counts a subset of
// completed, and the duration histogram observes each completed job once.
type metrics struct {
	queueDepth    prometheus.GaugeFunc
	activeWorkers prometheus.GaugeFunc
	maxWorkers    prometheus.GaugeFunc
	queueCapacity prometheus.GaugeFunc
	submitted     prometheus.Counter
	completed     prometheus.Counter
	errors        prometheus.Counter
	droppedVec    *prometheus.CounterVec
	dropped       [len(dropReasons)]prometheus.Counter
	duration      prometheus.Histogram
	queueWait     prometheus.Histogram
}

func newMetrics(name string, p *WorkerPool) *metrics {
	opts := func(metric, help string) prometheus.Opts {
		return prometheus.Opts{
			Namespace: name,
			Subsystem: "worker_pool",
			Name:      metric,
			Help:      help,
		}
	}
	gauge := func(metric, help string, fn func() float64) prometheus.GaugeFunc {
		return prometheus.NewGaugeFunc(prometheus.GaugeOpts(opts(metric, help)), fn)
	}
	counter := func(metric, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts(opts(metric, help)))
	}
	histogram := func(metric, help string, buckets []float64) prometheus.Histogram {
		o := opts(metric, help)
		return prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: o.Namespace,
			Subsystem: o.Subsystem,
			Name:      o.Name,
			Help:      o.Help,
			Buckets:   buckets,
		})
	}

	m := &metrics{
		queueDepth: gauge("queue_depth", "Jobs waiting in the queue.",
			func() float64 { return float64(p.QueueDepth()) }),
		activeWorkers: gauge("active_workers", "Jobs running now.",
			func() float64 { return float64(p.ActiveWorkers()) }),
		maxWorkers: gauge("max_workers", "Jobs that may run at once.",
			func() float64 { return float64(p.cfg.MaxWorkers) }),
		queueCapacity: gauge("queue_capacity", "Jobs the queue can hold.",
			func() float64 { return float64(p.cfg.QueueSize) }),
		submitted: counter("submitted_jobs_total", "Jobs accepted into the queue."),
		completed: counter("completed_jobs_total", "Jobs that finished, whatever the result."),
		errors: counter("errors_total",
			"Jobs that returned an error, panicked, exited or timed out."),
		droppedVec: prometheus.NewCounterVec(
			prometheus.CounterOpts(opts("dropped_jobs_total", "Jobs not run, by reason.")),
			[]string{"reason"},
		),
		duration: histogram("job_duration_seconds", "Run time of finished jobs.",
			durationBuckets),
		queueWait: histogram("queue_wait_seconds", "Time jobs spent queued before starting.",
			waitBuckets),
	}
	// Creating every reason up front makes its series exist at zero.
	for r := range m.dropped {
		m.dropped[r] = m.droppedVec.WithLabelValues(DropReason(r).String())
	}
	return m
}

func (m *metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{
		m.queueDepth, m.activeWorkers, m.maxWorkers, m.queueCapacity,
		m.submitted, m.completed, m.errors, m.droppedVec, m.duration, m.queueWait,
	}
}

// register registers every collector on r, or none: on the first failure it
// unregisters those already registered.
func (m *metrics) register(r prometheus.Registerer) error {
	cs := m.collectors()
	for i, c := range cs {
		if err := r.Register(c); err != nil {
			for _, done := range cs[:i] {
				r.Unregister(done)
			}
			if errors.As(err, new(prometheus.AlreadyRegisteredError)) {
				return fmt.Errorf("pool: register metrics: name already in use: %w", err)
			}
			return fmt.Errorf("pool: register metrics: %w", err)
		}
	}
	return nil
}

// finished records a job that ran, however it ended.
func (m *metrics) finished(d time.Duration, failed bool) {
	m.duration.Observe(d.Seconds())
	m.completed.Inc()
	if failed {
		m.errors.Inc()
	}
}
