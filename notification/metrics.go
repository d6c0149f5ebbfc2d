package notification

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Values of the result label of notification_deliveries_total.
const (
	resultDelivered = "delivered" // the sender succeeded
	resultFailed    = "failed"    // the sender gave up: a final status, or retries ran out
	resultAbandoned = "abandoned" // accepted, then never run at shutdown
)

// Values of the reason label of notification_rejected_total.
const (
	rejectInvalid      = "invalid"
	rejectQueueFull    = "queue_full"
	rejectShuttingDown = "shutting_down"
)

// Metrics holds the notification service's collectors:
//
//	notification_accepted_total             notifications queued for delivery
//	notification_rejected_total{reason}     invalid, queue_full, shutting_down
//	notification_deliveries_total{result}   delivered, failed, abandoned
//	notification_delivery_attempts_total{result}
//	                                        success, retryable, permanent, error
//	notification_dead_letter_errors_total   dead letters that could not be written
//	notification_duplicates_total           answered 202 for an ID the queue held
//
// Every accepted notification ends in exactly one delivery result.
type Metrics struct {
	accepted         prometheus.Counter
	rejections       *prometheus.CounterVec
	deliveries       *prometheus.CounterVec
	attempts         *prometheus.CounterVec
	deadLetterErrors prometheus.Counter
	duplicates       prometheus.Counter
}

func newMetrics() *Metrics {
	counter := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "notification", Name: name, Help: help,
		})
	}
	vec := func(name, help, label string, values ...string) *prometheus.CounterVec {
		v := prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "notification", Name: name, Help: help,
		}, []string{label})
		for _, value := range values {
			v.WithLabelValues(value)
		}
		return v
	}
	return &Metrics{
		accepted: counter("accepted_total", "Notifications queued for delivery."),
		rejections: vec("rejected_total", "Notifications refused at intake, by reason.",
			"reason", rejectInvalid, rejectQueueFull, rejectShuttingDown),
		deliveries: vec("deliveries_total", "Accepted notifications by final result.",
			"result", resultDelivered, resultFailed, resultAbandoned),
		attempts: vec("delivery_attempts_total", "Webhook requests by outcome.",
			"result", ResultSuccess, ResultRetryable, ResultPermanent, ResultError),
		deadLetterErrors: counter("dead_letter_errors_total",
			"Undeliverable notifications that could not be written as dead letters."),
		duplicates: counter("duplicates_total",
			"Notifications accepted again under an ID that the queue already held."),
	}
}

// NewMetrics returns the service's metrics, registered on r. Registration is
// all or nothing; a second registration on the same r is an error.
func NewMetrics(r prometheus.Registerer) (*Metrics, error) {
	m := newMetrics()
	cs := []prometheus.Collector{
		m.accepted, m.rejections, m.deliveries, m.attempts, m.deadLetterErrors, m.duplicates,
	}
	for i, c := range cs {
		if err := r.Register(c); err != nil {
			for _, done := range cs[:i] {
				r.Unregister(done)
			}
			if errors.As(err, new(prometheus.AlreadyRegisteredError)) {
				return nil, fmt.Errorf("notification: register metrics: already registered: %w", err)
			}
			return nil, fmt.Errorf("notification: register metrics: %w", err)
		}
	}
	return m, nil
}

// Attempt counts one webhook request; use it as [WebhookConfig.OnAttempt].
func (m *Metrics) Attempt(result string) {
	m.attempts.WithLabelValues(result).Inc()
}

func (m *Metrics) rejected(reason string) {
	m.rejections.WithLabelValues(reason).Inc()
}

func (m *Metrics) delivered(result string) {
	m.deliveries.WithLabelValues(result).Inc()
}
