package pool

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
)

func TestMetricFamiliesAreNamedAndTyped(t *testing.T) {
	t.Parallel()
	p, reg := newTestPool(t, testConfig(2, 4), WithName("notification"))
	p.Submit(nop("one"))
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown() = %v, want nil", err)
	}

	families, err := reg.Gather()
	if err != nil {
		t.Fatalf("Gather() error = %v", err)
	}
	got := map[string]dto.MetricType{}
	for _, f := range families {
		got[f.GetName()] = f.GetType()
	}
	want := map[string]dto.MetricType{
		"notification_worker_pool_queue_depth":          dto.MetricType_GAUGE,
		"notification_worker_pool_active_workers":       dto.MetricType_GAUGE,
		"notification_worker_pool_max_workers":          dto.MetricType_GAUGE,
		"notification_worker_pool_queue_capacity":       dto.MetricType_GAUGE,
		"notification_worker_pool_submitted_jobs_total": dto.MetricType_COUNTER,
		"notification_worker_pool_completed_jobs_total": dto.MetricType_COUNTER,
		"notification_worker_pool_dropped_jobs_total":   dto.MetricType_COUNTER,
		"notification_worker_pool_errors_total":         dto.MetricType_COUNTER,
		"notification_worker_pool_job_duration_seconds": dto.MetricType_HISTOGRAM,
		"notification_worker_pool_queue_wait_seconds":   dto.MetricType_HISTOGRAM,
	}
	for name, typ := range want {
		if got[name] != typ {
			t.Errorf("family %s has type %v, want %v", name, got[name], typ)
		}
	}
	if len(got) != len(want) {
		t.Errorf("gathered %d families, want %d: %v", len(got), len(want), got)
	}

	problems, err := testutil.GatherAndLint(reg)
	if err != nil || len(problems) != 0 {
		t.Errorf("GatherAndLint() = %v, %v, want no problems", problems, err)
	}
}

func TestDropReasonsExistAtZero(t *testing.T) {
	t.Parallel()
	_, reg := newTestPool(t, testConfig(1, 1))

	want := `
# HELP worker_pool_dropped_jobs_total Jobs not run, by reason.
# TYPE worker_pool_dropped_jobs_total counter
worker_pool_dropped_jobs_total{reason="not_running"} 0
worker_pool_dropped_jobs_total{reason="queue_full"} 0
worker_pool_dropped_jobs_total{reason="shutdown"} 0
`
	err := testutil.GatherAndCompare(reg, strings.NewReader(want), "worker_pool_dropped_jobs_total")
	if err != nil {
		t.Error(err)
	}
}

func TestGaugesAreReadAtScrapeTime(t *testing.T) {
	t.Parallel()
	p, reg := newTestPool(t, testConfig(1, 4))
	b := newBlocker(4)
	p.Submit(b.job("running"))
	b.waitStarted(t, 1)
	p.Submit(b.job("queued"))

	want := `
# HELP worker_pool_active_workers Jobs running now.
# TYPE worker_pool_active_workers gauge
worker_pool_active_workers %d
# HELP worker_pool_queue_depth Jobs waiting in the queue.
# TYPE worker_pool_queue_depth gauge
worker_pool_queue_depth %d
`
	names := []string{"worker_pool_active_workers", "worker_pool_queue_depth"}
	err := testutil.GatherAndCompare(reg, strings.NewReader(fmt.Sprintf(want, 1, 1)), names...)
	if err != nil {
		t.Errorf("while busy: %v", err)
	}

	close(b.release)
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown() = %v, want nil", err)
	}
	err = testutil.GatherAndCompare(reg, strings.NewReader(fmt.Sprintf(want, 0, 0)), names...)
	if err != nil {
		t.Errorf("at rest: %v", err)
	}
}

func TestHistogramCountEqualsCompleted(t *testing.T) {
	t.Parallel()
	p, reg := newTestPool(t, testConfig(2, 8))
	for range 5 {
		p.Submit(nop("counted"))
	}
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown() = %v, want nil", err)
	}

	families, err := reg.Gather()
	if err != nil {
		t.Fatalf("Gather() error = %v", err)
	}
	var completed float64
	var histogram uint64
	for _, f := range families {
		switch f.GetName() {
		case "worker_pool_completed_jobs_total":
			completed = f.GetMetric()[0].GetCounter().GetValue()
		case "worker_pool_job_duration_seconds":
			histogram = f.GetMetric()[0].GetHistogram().GetSampleCount()
		}
	}
	if completed != 5 || histogram != 5 {
		t.Errorf("completed, histogram count = %v, %d, want 5, 5", completed, histogram)
	}
}

func TestRegisteringTwiceFails(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewPedanticRegistry()
	if _, err := New(testConfig(1, 1), WithRegisterer(reg), WithName("a")); err != nil {
		t.Fatalf("New(name a) error = %v", err)
	}
	before, _ := reg.Gather()

	_, err := New(testConfig(1, 1), WithRegisterer(reg), WithName("a"))
	var are prometheus.AlreadyRegisteredError
	if !errors.As(err, &are) {
		t.Fatalf("New(name a) again = %v, want AlreadyRegisteredError", err)
	}
	after, _ := reg.Gather()
	if len(after) != len(before) {
		t.Errorf("families after a failed New = %d, want %d", len(after), len(before))
	}

	if _, err := New(testConfig(1, 1), WithRegisterer(reg), WithName("b")); err != nil {
		t.Errorf("New(name b) on the same registry = %v, want nil", err)
	}
}

// partialRegisterer refuses the collector at index failAt.
type partialRegisterer struct {
	*prometheus.Registry
	calls, failAt int
}

func (r *partialRegisterer) Register(c prometheus.Collector) error {
	r.calls++
	if r.calls-1 == r.failAt {
		return errors.New("refused")
	}
	return r.Registry.Register(c)
}

func TestRegistrationFailureLeavesNothing(t *testing.T) {
	t.Parallel()
	r := &partialRegisterer{Registry: prometheus.NewRegistry(), failAt: 0}
	if _, err := New(testConfig(1, 1), WithRegisterer(r)); err == nil {
		t.Fatal("New() with a failing registerer = nil error, want an error")
	}
	families, err := r.Gather()
	if err != nil || len(families) != 0 {
		t.Errorf("Gather() after a failed New = %d families, %v; want none", len(families), err)
	}
}
