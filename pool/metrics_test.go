package pool

import (
	"context"
	"errors"
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
	p, _ := newTestPool(t, testConfig(1, 4))
	b := newBlocker(4)
	p.Submit(b.job("running"))
	b.waitStarted(t, 1)
	p.Submit(b.job("queued"))

	if got := testutil.ToFloat64(p.metrics.activeWorkers); got != 1 {
		t.Errorf("active_workers = %v, want 1", got)
	}
	if got := testutil.ToFloat64(p.metrics.queueDepth); got != 1 {
		t.Errorf("queue_depth = %v, want 1", got)
	}
	close(b.release)
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown() = %v, want nil", err)
	}
	if got := testutil.ToFloat64(p.metrics.activeWorkers) +
		testutil.ToFloat64(p.metrics.queueDepth); got != 0 {
		t.Errorf("active_workers + queue_depth at rest = %v, want 0", got)
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

func TestRegistrationIsAllOrNothing(t *testing.T) {
	t.Parallel()
	r := &partialRegisterer{Registry: prometheus.NewRegistry(), failAt: 5}
	if _, err := New(testConfig(1, 1), WithRegisterer(r)); err == nil {
		t.Fatal("New() with a failing registerer = nil error, want an error")
	}
	families, err := r.Gather()
	if err != nil || len(families) != 0 {
		t.Errorf("Gather() after a failed New = %d families, %v; want none", len(families), err)
	}
}
