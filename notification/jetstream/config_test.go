package jetstream

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/fxpool/fxpool/notification"
	"github.com/fxpool/fxpool/pool"
)

func TestNewValidatesConfig(t *testing.T) {
	t.Parallel()
	p, err := pool.New(testPool())
	if err != nil {
		t.Fatalf("pool.New() error = %v", err)
	}
	svc, err := notification.NewService(notification.ServiceConfig{
		Pool: p, Sender: newRecorder(nil),
	})
	if err != nil {
		t.Fatalf("NewService() error = %v", err)
	}
	valid := Config{URL: "nats://127.0.0.1:4222", Service: svc, Pool: p, PoolConfig: testPool()}

	tests := []struct {
		name    string
		change  func(*Config)
		wantErr string
	}{
		{"valid", func(*Config) {}, ""},
		{"no url", func(c *Config) { c.URL = "" }, "jetstream: URL or Server is required"},
		{"no service", func(c *Config) { c.Service = nil }, "jetstream: Service and Pool are required"},
		{"no pool", func(c *Config) { c.Pool = nil }, "jetstream: Service and Pool are required"},
		{
			"replicas", func(c *Config) { c.Replicas = 7 },
			"jetstream: Replicas must be between 1 and 5, got 7",
		},
		{
			"max deliveries", func(c *Config) { c.MaxDeliveries = -1 },
			"jetstream: MaxDeliveries must be >= 1, got -1",
		},
		{
			"ack wait", func(c *Config) { c.AckWait = time.Microsecond },
			"jetstream: AckWait must be >= 1ms, got 1µs",
		},
		{
			"pool config", func(c *Config) { c.PoolConfig = pool.Config{} },
			"jetstream: PoolConfig: pool: MaxWorkers must be between 1 and 10000, got 0",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := valid
			tt.change(&cfg)
			_, err := New(cfg)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.wantErr {
				t.Errorf("New() error = %q, want %q", got, tt.wantErr)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	got := Config{PoolConfig: pool.Config{JobTimeoutSeconds: 7}}.withDefaults()
	if got.AckWait != 9*time.Second {
		t.Errorf("AckWait = %v, want the job timeout plus %v: 9s", got.AckWait, AckMargin)
	}
	if got.Stream != DefaultStream || got.Consumer != DefaultConsumer || got.Replicas != 1 {
		t.Errorf("withDefaults() = stream %q, consumer %q, replicas %d, want %q, %q, 1",
			got.Stream, got.Consumer, got.Replicas, DefaultStream, DefaultConsumer)
	}
}

func TestRetryDelayDoublesUpToMax(t *testing.T) {
	t.Parallel()
	c := Config{RetryDelay: time.Second, MaxRetryDelay: 5 * time.Second}
	tests := []struct {
		delivered uint64
		want      time.Duration
	}{
		{1, time.Second},
		{2, 2 * time.Second},
		{3, 4 * time.Second},
		{4, 5 * time.Second},
		{1000, 5 * time.Second},
	}
	for _, tt := range tests {
		if got := c.retryDelay(tt.delivered); got != tt.want {
			t.Errorf("retryDelay(%d) = %v, want %v", tt.delivered, got, tt.want)
		}
	}
}

func TestNewRefusesSecondRegistration(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	r := startReplica(t, srv.ClientURL(), newRecorder(nil), Config{})

	cfg := r.queue.cfg
	cfg.Registerer = r.registry
	_, err := New(cfg)
	if err == nil || !strings.Contains(err.Error(), "jetstream: register metrics") {
		t.Errorf("New() on a registry that has the metrics = %v, want a registration error", err)
	}
	var are prometheus.AlreadyRegisteredError
	if !errors.As(err, &are) {
		t.Errorf("New() error = %v, want it to wrap AlreadyRegisteredError", err)
	}
}
