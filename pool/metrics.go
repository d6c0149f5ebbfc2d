package pool

import (
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"
	_ "unsafe" // for go:linkname

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

// histogram is a histogram written by one goroutine and read at scrape time.
// Its owner writes without contention; the collector merges all of them.
type histogram struct {
	bounds []time.Duration // upper bounds of the buckets, shared and read-only
	counts []atomic.Uint64 // per bucket, plus one for +Inf
	sum    atomic.Int64    // nanoseconds
}

func newHistogram(bounds []time.Duration) histogram {
	return histogram{bounds: bounds, counts: make([]atomic.Uint64, len(bounds)+1)}
}

func (h *histogram) observe(d time.Duration) {
	i := 0
	for i < len(h.bounds) && d > h.bounds[i] {
		i++
	}
	h.counts[i].Add(1)
	h.sum.Add(int64(d))
}

// workerStats are the counts kept by one worker. Only that worker writes
// them, so recording a job touches no shared cache line.
type workerStats struct {
	errors   atomic.Uint64
	duration histogram // its count is the worker's completed jobs
	wait     histogram
	_        [64]byte // keeps neighbouring workers' stats off this cache line
}

// counter is a counter written by many goroutines: one shard per processor
// (P), so that submitters running in parallel each add to a cache line of
// their own. Reads sum the shards. The zero value is not usable; see
// newCounter.
type counter struct {
	shards []paddedUint64
	mask   int
}

type paddedUint64 struct {
	n atomic.Uint64
	_ [56]byte // one shard per 64-byte cache line
}

// newCounter returns a counter with a shard for each of the current
// GOMAXPROCS processors, rounded up to a power of two. Processors added later
// share shards, which costs contention, never a lost count.
func newCounter() counter {
	n := 1
	for n < runtime.GOMAXPROCS(0) {
		n *= 2
	}
	return counter{shards: make([]paddedUint64, n), mask: n - 1}
}

func (c *counter) inc() {
	// Pinning keeps the goroutine on its processor between reading the
	// processor's id and adding to its shard; it costs no more than a
	// couple of instructions.
	id := procPin()
	c.shards[id&c.mask].n.Add(1)
	procUnpin()
}

func (c *counter) load() uint64 {
	var n uint64
	for i := range c.shards {
		n += c.shards[i].n.Load()
	}
	return n
}

// procPin and procUnpin are the runtime's processor pinning, which sync.Pool
// uses too. The runtime keeps them reachable by linkname for packages outside
// the standard library, and promises not to change their signatures.
//
//go:linkname procPin runtime.procPin
func procPin() int

//go:linkname procUnpin runtime.procUnpin
func procUnpin()

// collector exposes a pool's counts as Prometheus metrics. Everything is read
// at scrape time from the counts the pool keeps anyway.
//
// The accounting it reports: every Submit is counted once, as submitted or as
// dropped with reason queue_full or not_running. Every submitted job ends as
// completed, or as dropped with reason shutdown. errors counts a subset of
// completed. completed is the duration histogram's count, read from the same
// buckets, so the two always agree.
type collector struct {
	p *WorkerPool

	queueDepth, activeWorkers, maxWorkers, queueCapacity *prometheus.Desc
	submitted, completed, errors, dropped                *prometheus.Desc
	duration, queueWait                                  *prometheus.Desc
}

var _ prometheus.Collector = (*collector)(nil)

func newCollector(name string, p *WorkerPool) *collector {
	desc := func(metric, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(name, "worker_pool", metric),
			help, labels, nil)
	}
	return &collector{
		p:             p,
		queueDepth:    desc("queue_depth", "Jobs waiting in the queue."),
		activeWorkers: desc("active_workers", "Jobs running now."),
		maxWorkers:    desc("max_workers", "Jobs that may run at once."),
		queueCapacity: desc("queue_capacity", "Jobs the queue can hold."),
		submitted:     desc("submitted_jobs_total", "Jobs accepted into the queue."),
		completed:     desc("completed_jobs_total", "Jobs that finished, whatever the result."),
		errors: desc("errors_total",
			"Jobs that returned an error, panicked, exited or timed out."),
		dropped:   desc("dropped_jobs_total", "Jobs not run, by reason.", "reason"),
		duration:  desc("job_duration_seconds", "Run time of finished jobs."),
		queueWait: desc("queue_wait_seconds", "Time jobs spent queued before starting."),
	}
}

// Describe sends the descriptors of every family.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		c.queueDepth, c.activeWorkers, c.maxWorkers, c.queueCapacity,
		c.submitted, c.completed, c.errors, c.dropped, c.duration, c.queueWait,
	} {
		ch <- d
	}
}

// Collect sends the current value of every family. Every reason of the
// dropped counter is sent, so its series exist at zero.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	p := c.p
	s := p.snapshot()
	gauge := func(d *prometheus.Desc, v int) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v))
	}
	count := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}

	gauge(c.queueDepth, p.QueueDepth())
	gauge(c.activeWorkers, p.ActiveWorkers())
	gauge(c.maxWorkers, p.cfg.MaxWorkers)
	gauge(c.queueCapacity, p.cfg.QueueSize)
	count(c.submitted, s.submitted)
	count(c.completed, s.completed)
	count(c.errors, s.errors)
	for r, n := range s.dropped {
		count(c.dropped, n, DropReason(r).String())
	}
	ch <- constHistogram(c.duration, durationBuckets, s.duration)
	ch <- constHistogram(c.queueWait, waitBuckets, s.wait)
}

func constHistogram(d *prometheus.Desc, bounds []float64, h histogramSnapshot) prometheus.Metric {
	buckets := make(map[float64]uint64, len(bounds))
	var cumulative uint64
	for i, b := range bounds {
		cumulative += h.counts[i]
		buckets[b] = cumulative
	}
	return prometheus.MustNewConstHistogram(d, h.count, time.Duration(h.sum).Seconds(), buckets)
}

// register registers c on r. A pool of the same name already registered
// there is an error, never a panic.
func (c *collector) register(r prometheus.Registerer) error {
	err := r.Register(c)
	if errors.As(err, new(prometheus.AlreadyRegisteredError)) {
		return fmt.Errorf("pool: register metrics: name already in use: %w", err)
	}
	if err != nil {
		return fmt.Errorf("pool: register metrics: %w", err)
	}
	return nil
}

type histogramSnapshot struct {
	counts []uint64
	count  uint64
	sum    int64
}

func (s *histogramSnapshot) add(h *histogram) {
	if s.counts == nil {
		s.counts = make([]uint64, len(h.counts))
	}
	for i := range h.counts {
		n := h.counts[i].Load()
		s.counts[i] += n
		s.count += n
	}
	s.sum += h.sum.Load()
}

// stats is a point-in-time reading of a pool's counts.
type stats struct {
	submitted, completed, errors uint64
	dropped                      [len(dropReasons)]uint64
	duration, wait               histogramSnapshot
}

// snapshot reads the pool's counts. Jobs that finish while it runs may be
// counted in some fields and not others; at rest it is exact.
func (p *WorkerPool) snapshot() stats {
	var s stats
	for _, w := range p.slots {
		s.errors += w.stats.errors.Load()
		s.duration.add(&w.stats.duration)
		s.wait.add(&w.stats.wait)
	}
	s.completed = s.duration.count
	s.submitted = p.queue.pushes()
	for r := range s.dropped {
		s.dropped[r] = p.dropped[r].load()
	}
	return s
}

func durations(seconds []float64) []time.Duration {
	out := make([]time.Duration, len(seconds))
	for i, s := range seconds {
		out[i] = time.Duration(s * float64(time.Second))
	}
	return out
}

var (
	durationBounds = durations(durationBuckets)
	waitBounds     = durations(waitBuckets)
)
