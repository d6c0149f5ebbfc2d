package servicetest

import (
	"bytes"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// Series of the notifier's metrics that tests read, as /metrics writes them.
const (
	AcceptedTotal  = `notification_accepted_total`
	DeliveredTotal = `notification_deliveries_total{result="delivered"}`
	FailedTotal    = `notification_deliveries_total{result="failed"}`
	AbandonedTotal = `notification_deliveries_total{result="abandoned"}`
	QueueFullTotal = `notification_rejected_total{reason="queue_full"}`
	QueueDepth     = `notification_worker_pool_queue_depth`
	ActiveWorkers  = `notification_worker_pool_active_workers`
	Goroutines     = `go_goroutines`
)

// Samples maps each series of a scrape, its name and labels as written, to
// its value.
type Samples map[string]float64

// Metrics scrapes the metrics at base, such as http://127.0.0.1:port. It
// returns an error when GET /metrics fails or does not answer 200.
func Metrics(tb testing.TB, base string) (Samples, error) {
	tb.Helper()
	var buf bytes.Buffer
	code, err := get(tb.Context(), base+"/metrics", &buf)
	if err != nil {
		return nil, err
	}
	if code != http.StatusOK {
		return nil, fmt.Errorf("GET /metrics = %d", code)
	}
	return parseMetrics(buf.String()), nil
}

// parseMetrics reads the samples of the Prometheus text format; it skips
// comments and lines without a number.
func parseMetrics(text string) Samples {
	out := Samples{}
	for line := range strings.Lines(text) {
		line = strings.TrimSpace(line)
		i := strings.LastIndexByte(line, ' ')
		if i < 0 || strings.HasPrefix(line, "#") {
			continue
		}
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			out[line[:i]] = v
		}
	}
	return out
}

// WaitMetrics scrapes the metrics at base every [PollInterval] until done
// accepts them, and returns them. It fails the test, showing the series
// named in this package, when [WaitTimeout] passes or p exits first; p may be
// nil.
func WaitMetrics(tb testing.TB, p *Process, base string, done func(Samples) bool) Samples {
	tb.Helper()
	var m Samples
	Poll(tb, p, WaitTimeout, func() error {
		var err error
		m, err = Metrics(tb, base)
		switch {
		case err != nil:
			return err
		case !done(m):
			return fmt.Errorf("/metrics: %v; the condition still fails", pick(m))
		}
		return nil
	})
	return m
}

// named lists the series named in this package.
var named = []string{
	AcceptedTotal, DeliveredTotal, FailedTotal, AbandonedTotal,
	QueueFullTotal, QueueDepth, ActiveWorkers, Goroutines,
}

// pick returns the series of m named in this package.
func pick(m Samples) Samples {
	out := Samples{}
	for _, n := range named {
		out[n] = m[n]
	}
	return out
}
