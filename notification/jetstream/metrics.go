package jetstream

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
)

// Metric name parts: every family starts with "notification_jetstream_".
const (
	namespace = "notification"
	subsystem = "jetstream"
)

// Values of the reason label of notification_jetstream_naks_total.
const (
	nakRetry    = "retry"    // a delivery failed for now; redelivered after a delay
	nakShutdown = "shutdown" // the replica stopped before the delivery ran
)

// infoTimeout bounds the consumer info request made at each scrape.
const infoTimeout = 2 * time.Second

// publishBuckets are the bounds, in seconds, of the publish latency
// histogram: from a quarter of a millisecond, a publish to a server on the
// same host, to the five seconds of [DefaultPublishTimeout], where a cluster
// that lost its leader ends up.
var publishBuckets = []float64{
	.00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5,
}

// metrics holds the collectors of a [Queue].
type metrics struct {
	publish  prometheus.Histogram
	naks     *prometheus.CounterVec
	consumer *consumerCollector
}

func newMetrics(log *zap.Logger) *metrics {
	naks := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: subsystem, Name: "naks_total",
		Help: "Messages handed back to the stream for redelivery, by reason.",
	}, []string{"reason"})
	naks.WithLabelValues(nakRetry)
	naks.WithLabelValues(nakShutdown)

	return &metrics{
		publish: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: subsystem, Name: "publish_duration_seconds",
			Help:    "Time from publishing a notification to JetStream's acknowledgement.",
			Buckets: publishBuckets,
		}),
		naks:     naks,
		consumer: newConsumerCollector(log),
	}
}

// register registers every collector on r, or none.
func (m *metrics) register(r prometheus.Registerer) error {
	cs := []prometheus.Collector{m.publish, m.naks, m.consumer}
	for i, c := range cs {
		if err := r.Register(c); err != nil {
			for _, done := range cs[:i] {
				r.Unregister(done)
			}
			return fmt.Errorf("jetstream: register metrics: %w", err)
		}
	}
	return nil
}

// consumerCollector reads the shared consumer's state from the server at
// each scrape, so that every replica reports the same figures.
type consumerCollector struct {
	log         *zap.Logger
	consumer    atomic.Pointer[jetstream.Consumer] // nil until the queue starts
	pending     *prometheus.Desc
	ackPending  *prometheus.Desc
	redelivered *prometheus.Desc
}

var _ prometheus.Collector = (*consumerCollector)(nil)

func newConsumerCollector(log *zap.Logger) *consumerCollector {
	desc := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(namespace, subsystem, name), help,
			nil, nil)
	}
	return &consumerCollector{
		log: log,
		pending: desc("consumer_pending_messages",
			"Messages no replica has fetched."),
		ackPending: desc("consumer_ack_pending_messages",
			"Fetched messages not acked yet."),
		redelivered: desc("consumer_redelivered_messages",
			"Redelivered messages not acked."),
	}
}

// Describe sends the descriptions of the three gauges.
func (c *consumerCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.pending
	ch <- c.ackPending
	ch <- c.redelivered
}

// Collect asks the server for the consumer's state. It sends nothing before
// the queue starts or when the server does not answer in time, so that a
// NATS outage does not fail the whole scrape.
func (c *consumerCollector) Collect(ch chan<- prometheus.Metric) {
	cons := c.consumer.Load()
	if cons == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), infoTimeout)
	defer cancel()
	info, err := (*cons).Info(ctx)
	if err != nil {
		c.log.Debug("consumer info not read", zap.Error(err))
		return
	}

	ch <- prometheus.MustNewConstMetric(c.pending, prometheus.GaugeValue, float64(info.NumPending))
	ch <- prometheus.MustNewConstMetric(c.ackPending, prometheus.GaugeValue,
		float64(info.NumAckPending))
	ch <- prometheus.MustNewConstMetric(c.redelivered, prometheus.GaugeValue,
		float64(info.NumRedelivered))
}
