package servicetest

import (
	"fmt"
	"maps"
	"math"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

func TestParseMetricsReadsSamples(t *testing.T) {
	t.Parallel()
	text := "# HELP notification_accepted_total Notifications accepted.\n" +
		"# TYPE notification_accepted_total counter\n" +
		"notification_accepted_total 7\n" +
		`notification_deliveries_total{result="delivered"} 4` + "\n" +
		"  go_goroutines 12  \n" +
		"bad_line_without_value\n" +
		"not_a_number abc\n" +
		`histogram_bucket{le="+Inf"} 1.5e3` + "\n"
	want := Samples{
		AcceptedTotal:                 7,
		DeliveredTotal:                4,
		Goroutines:                    12,
		`histogram_bucket{le="+Inf"}`: 1500,
	}

	if got := parseMetrics(text); !maps.Equal(got, want) {
		t.Errorf("parseMetrics() = %v, want %v", got, want)
	}
}

func TestParseMetricsKeepsSpecialValues(t *testing.T) {
	t.Parallel()
	got := parseMetrics("a +Inf\nb NaN\n")
	if !math.IsInf(got["a"], 1) || !math.IsNaN(got["b"]) {
		t.Errorf("parseMetrics(a +Inf, b NaN) = %v, want +Inf and NaN", got)
	}
}

func TestMetricsFailsOnStatus(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(srv.Close)

	if m, err := Metrics(t, srv.URL); err == nil {
		t.Errorf("Metrics() on a 404 = %v, nil, want an error", m)
	}
}

func TestWaitMetricsReturnsAcceptedScrape(t *testing.T) {
	t.Parallel()
	var scrapes atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/metrics" {
			http.NotFound(w, r)
			return
		}
		_, _ = fmt.Fprintf(w, "%s %d\n", AcceptedTotal, scrapes.Add(1))
	}))
	t.Cleanup(srv.Close)

	m := WaitMetrics(t, nil, srv.URL, func(m Samples) bool { return m[AcceptedTotal] >= 3 })
	if m[AcceptedTotal] != 3 {
		t.Errorf("WaitMetrics() = %v, want the first scrape with %s >= 3", m, AcceptedTotal)
	}
}
