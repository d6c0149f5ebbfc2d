package modules

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"

	"go.uber.org/zap/zapcore"

	"github.com/fxpool/fxpool/notification"
)

// fuzzVars are the variables that FuzzLoadEnv sets, in the order of its
// arguments.
var fuzzVars = []string{
	"WORKER_POOL_MAX_WORKERS",
	"WORKER_POOL_QUEUE_SIZE",
	"WORKER_POOL_SHUTDOWN_TIMEOUT_SECONDS",
	"WORKER_POOL_JOB_TIMEOUT_SECONDS",
	"NOTIFIER_HTTP_ADDR",
	"NOTIFIER_API_TOKEN",
	"NOTIFIER_LOG_LEVEL",
	"NOTIFIER_WEBHOOK_URL",
	"NOTIFIER_WEBHOOK_SECRET",
	"NOTIFIER_DEADLETTER_PATH",
	"NOTIFIER_QUEUE",
}

// FuzzLoadEnv loads every configuration from fuzzed variables. Each load
// must either fail with an [*EnvError] that names one of its own variables,
// or return a configuration that validates and that the service can use.
// The seeds are in testdata/fuzz/FuzzLoadEnv; an empty string leaves a
// variable unset.
func FuzzLoadEnv(f *testing.F) {
	f.Add("4", "100", "30", "30", ":8080", "tok", "info", "http://127.0.0.1:9/", "s", "", "memory")
	f.Fuzz(func(t *testing.T, workers, queue, shutdown, job, addr, token, level, webhook,
		secret, deadLetters, q string,
	) {
		values := []string{
			workers, queue, shutdown, job, addr, token, level, webhook, secret,
			deadLetters, q,
		}
		env := map[string]string{}
		for i, v := range values {
			if v != "" {
				env[fuzzVars[i]] = v
			}
		}
		p := envParams{Env: MapEnvironment(env)}

		pc, err := newPoolConfig(p)
		checkLoad(t, env, "WORKER_POOL_", err, pc.Validate)
		hc, err := newHTTPConfig(p)
		checkLoad(t, env, "NOTIFIER_", err, func() error { return usableHTTP(hc) })
		nc, err := newNotificationConfig(p)
		checkLoad(t, env, "NOTIFIER_", err, func() error { return usableNotification(nc) })
		lc, err := newLoggingConfig(p)
		checkLoad(t, env, "NOTIFIER_", err, func() error { return usableLogging(lc) })
	})
}

// checkLoad checks the result of one load: an error must be an *EnvError
// that starts with "config: " and names a variable with prefix; without an
// error, usable must succeed.
func checkLoad(t *testing.T, env map[string]string, prefix string, err error,
	usable func() error,
) {
	t.Helper()
	if err == nil {
		if err := usable(); err != nil {
			t.Errorf("load(%q) accepted a configuration that is not usable: %v", env, err)
		}
		return
	}

	var ee *EnvError
	msg := err.Error()
	switch {
	case !errors.As(err, &ee):
		t.Errorf("load(%q) error = %T %v, want *EnvError", env, err, err)
	case !strings.HasPrefix(msg, "config: "+ee.Var+" "):
		t.Errorf("load(%q) error = %q, want it to start with \"config: %s \"", env, msg, ee.Var)
	case !strings.HasPrefix(ee.Var, prefix) || !isFuzzVar(ee.Var):
		t.Errorf("load(%q) error names %q, want a variable with prefix %s", env, ee.Var, prefix)
	}
	for _, key := range []string{"NOTIFIER_API_TOKEN", "NOTIFIER_WEBHOOK_SECRET"} {
		if v := env[key]; len(v) >= 8 && strings.Contains(msg, v) {
			t.Errorf("load(%q) error = %q, shows %s", env, msg, key)
		}
	}
}

func isFuzzVar(key string) bool {
	for _, v := range fuzzVars {
		if v == key {
			return true
		}
	}
	return false
}

// usableHTTP checks what the server needs of c beyond Validate: a port
// that a listener accepts.
func usableHTTP(c HTTPConfig) error {
	if err := c.Validate(); err != nil {
		return err
	}
	_, port, _ := net.SplitHostPort(c.Addr)
	_, err := net.DefaultResolver.LookupPort(context.Background(), "tcp", port)
	return err
}

// usableNotification checks that the webhook sender accepts c's URL.
func usableNotification(c NotificationConfig) error {
	if err := c.Validate(); err != nil {
		return err
	}
	if c.WebhookURL == "" {
		return nil
	}
	_, err := notification.NewWebhookSender(notification.WebhookConfig{URL: c.WebhookURL})
	return err
}

// usableLogging checks that zap accepts c's level.
func usableLogging(c LoggingConfig) error {
	if err := c.Validate(); err != nil {
		return err
	}
	_, err := zapcore.ParseLevel(c.Level)
	return err
}
