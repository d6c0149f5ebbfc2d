package pool

import (
	"errors"
	"testing"
)

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		modify func(*Config)
		want   string
	}{
		{"defaults", func(*Config) {}, ""},
		{"hand-off queue", func(c *Config) { c.QueueSize = 0 }, ""},
		{"largest", func(c *Config) {
			*c = Config{10000, 1000000, 3600, 3600}
		}, ""},
		{
			"no workers", func(c *Config) { c.MaxWorkers = 0 },
			"pool: MaxWorkers must be between 1 and 10000, got 0",
		},
		{
			"too many workers", func(c *Config) { c.MaxWorkers = 10001 },
			"pool: MaxWorkers must be between 1 and 10000, got 10001",
		},
		{
			"negative queue", func(c *Config) { c.QueueSize = -1 },
			"pool: QueueSize must be between 0 and 1000000, got -1",
		},
		{
			"huge queue", func(c *Config) { c.QueueSize = 1 << 40 },
			"pool: QueueSize must be between 0 and 1000000, got 1099511627776",
		},
		{
			"zero shutdown timeout", func(c *Config) { c.ShutdownTimeoutSeconds = 0 },
			"pool: ShutdownTimeoutSeconds must be between 1 and 3600, got 0",
		},
		{
			"long job timeout", func(c *Config) { c.JobTimeoutSeconds = 3601 },
			"pool: JobTimeoutSeconds must be between 1 and 3600, got 3601",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			tt.modify(&cfg)
			err := cfg.Validate()
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("Validate(%+v) = %q, want %q", cfg, got, tt.want)
			}
			var ce *ConfigError
			if err != nil && !errors.As(err, &ce) {
				t.Errorf("Validate(%+v) = %T, want *ConfigError", cfg, err)
			}
		})
	}
}

func TestDropReasonString(t *testing.T) {
	t.Parallel()
	for r, want := range map[DropReason]string{
		DropQueueFull: "queue_full", DropNotRunning: "not_running", DropShutdown: "shutdown",
		DropReason(7): "unknown",
	} {
		if got := r.String(); got != want {
			t.Errorf("DropReason(%d).String() = %q, want %q", int(r), got, want)
		}
	}
}
