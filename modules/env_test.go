package modules

import (
	"errors"
	"strings"
	"testing"

	"github.com/fxpool/fxpool/pool"
)

func TestLoadPoolConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		env     map[string]string
		want    pool.Config
		wantErr string
	}{
		{"defaults", nil, pool.DefaultConfig(), ""},
		{
			"empty means unset",
			map[string]string{"WORKER_POOL_MAX_WORKERS": ""},
			pool.DefaultConfig(), "",
		},
		{
			"leading zero is decimal",
			map[string]string{"WORKER_POOL_MAX_WORKERS": "010"},
			poolConfig(10, 1000, 30, 30), "",
		},
		{"all set", map[string]string{
			"WORKER_POOL_MAX_WORKERS": "4", "WORKER_POOL_QUEUE_SIZE": "0",
			"WORKER_POOL_SHUTDOWN_TIMEOUT_SECONDS": "60", "WORKER_POOL_JOB_TIMEOUT_SECONDS": "5",
		}, poolConfig(4, 0, 60, 5), ""},
		{
			"hex",
			map[string]string{"WORKER_POOL_MAX_WORKERS": "0x10"},
			pool.Config{},
			`config: WORKER_POOL_MAX_WORKERS must be a decimal integer, got "0x10"`,
		},
		{
			"word",
			map[string]string{"WORKER_POOL_QUEUE_SIZE": "lots"},
			pool.Config{},
			`config: WORKER_POOL_QUEUE_SIZE must be a decimal integer, got "lots"`,
		},
		{
			"space",
			map[string]string{"WORKER_POOL_QUEUE_SIZE": " 5"},
			pool.Config{},
			`config: WORKER_POOL_QUEUE_SIZE must be a decimal integer, got " 5"`,
		},
		{
			"overflow",
			map[string]string{"WORKER_POOL_QUEUE_SIZE": "99999999999"},
			pool.Config{},
			"config: WORKER_POOL_QUEUE_SIZE must be between 0 and 1000000, got 99999999999",
		},
		{
			"zero workers",
			map[string]string{"WORKER_POOL_MAX_WORKERS": "0"},
			pool.Config{},
			"config: WORKER_POOL_MAX_WORKERS must be between 1 and 10000, got 0",
		},
		{
			"negative queue",
			map[string]string{"WORKER_POOL_QUEUE_SIZE": "-1"},
			pool.Config{},
			"config: WORKER_POOL_QUEUE_SIZE must be between 0 and 1000000, got -1",
		},
		{
			"long shutdown",
			map[string]string{"WORKER_POOL_SHUTDOWN_TIMEOUT_SECONDS": "3601"},
			pool.Config{},
			"config: WORKER_POOL_SHUTDOWN_TIMEOUT_SECONDS must be between 1 and 3600, got 3601",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := newPoolConfig(envParams{Env: MapEnvironment(tt.env)})
			if tt.wantErr != "" {
				var ee *EnvError
				if err == nil || err.Error() != tt.wantErr || !errors.As(err, &ee) {
					t.Errorf("load(%v) error = %v, want EnvError %q", tt.env, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("load(%v) = %+v, %v, want %+v", tt.env, got, err, tt.want)
			}
		})
	}
}

func TestLoadNotifierConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		env     map[string]string
		load    func(envParams) (any, error)
		wantErr string
	}{
		{
			"log level",
			map[string]string{"NOTIFIER_LOG_LEVEL": "verbose"},
			loadLogging,
			`config: NOTIFIER_LOG_LEVEL must be one of debug, info, warn, error, got "verbose"`,
		},
		{
			"listen address",
			map[string]string{"NOTIFIER_HTTP_ADDR": "8080"},
			loadHTTP,
			`config: NOTIFIER_HTTP_ADDR must be host:port with a port from 0 to 65535, ` +
				`got "8080"`,
		},
		{
			"listen port name",
			map[string]string{"NOTIFIER_HTTP_ADDR": ":http"},
			loadHTTP,
			`config: NOTIFIER_HTTP_ADDR must be host:port with a port from 0 to 65535, ` +
				`got ":http"`,
		},
		{
			"listen port too large",
			map[string]string{"NOTIFIER_HTTP_ADDR": "127.0.0.1:65536"},
			loadHTTP,
			`config: NOTIFIER_HTTP_ADDR must be host:port with a port from 0 to 65535, ` +
				`got "127.0.0.1:65536"`,
		},
		{"listen any port", map[string]string{"NOTIFIER_HTTP_ADDR": "127.0.0.1:"}, loadHTTP, ""},
		{
			"queue",
			map[string]string{"NOTIFIER_QUEUE": "kafka"},
			loadNotification,
			`config: NOTIFIER_QUEUE must be memory or nats, got "kafka"`,
		},
		{
			"webhook scheme",
			map[string]string{
				"NOTIFIER_WEBHOOK_URL": "ftp://user:hunter2@example.test/?token=abc",
			},
			loadNotification,
			"config: NOTIFIER_WEBHOOK_URL must be an absolute http or https URL",
		},
		{
			"webhook relative",
			map[string]string{"NOTIFIER_WEBHOOK_URL": "/hook"},
			loadNotification, "config: NOTIFIER_WEBHOOK_URL must be an absolute http or https URL",
		},
		{"defaults", nil, loadNotification, ""},
		{"empty log level", map[string]string{"NOTIFIER_LOG_LEVEL": ""}, loadLogging, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.load(envParams{Env: MapEnvironment(tt.env)})
			got := ""
			if err != nil {
				got = err.Error()
			}
			if got != tt.wantErr {
				t.Errorf("load(%v) error = %q, want %q", tt.env, got, tt.wantErr)
			}
			if strings.Contains(got, "hunter2") || strings.Contains(got, "abc") {
				t.Errorf("load(%v) error %q shows a credential", tt.env, got)
			}
		})
	}
}

func loadLogging(p envParams) (any, error)      { return newLoggingConfig(p) }
func loadHTTP(p envParams) (any, error)         { return newHTTPConfig(p) }
func loadNotification(p envParams) (any, error) { return newNotificationConfig(p) }

func TestPoolConfigFromProcessEnvironment(t *testing.T) {
	t.Setenv("WORKER_POOL_MAX_WORKERS", "7")
	t.Setenv("WORKER_POOL_QUEUE_SIZE", "")
	got, err := PoolConfigFromEnv()
	if want := poolConfig(7, 1000, 30, 30); err != nil || got != want {
		t.Errorf("PoolConfigFromEnv() = %+v, %v, want %+v", got, err, want)
	}
}

func poolConfig(workers, queue, shutdown, job int) pool.Config {
	return pool.Config{
		MaxWorkers:             workers,
		QueueSize:              queue,
		ShutdownTimeoutSeconds: shutdown,
		JobTimeoutSeconds:      job,
	}
}
