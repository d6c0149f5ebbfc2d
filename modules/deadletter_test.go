package modules_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.uber.org/fx"
	"go.uber.org/zap/zapcore"

	"github.com/fxpool/fxpool/fxtest"
	"github.com/fxpool/fxpool/modules"
	"github.com/fxpool/fxpool/notification"
)

const noDeadLetterFile = "no dead-letter file: undeliverable notifications are only logged"

func TestDeadLetterPathUnsetWarnsOnce(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		path string
		want int
	}{
		{"unset", "", 1},
		{"set", filepath.Join(t.TempDir(), "dead.jsonl"), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			logger, logs := observedLogger(t)
			cfg := modules.NotificationConfig{Queue: "memory", DeadLetterPath: tt.path}
			a := fxtest.New(t, fx.Replace(logger, cfg))
			a.RequireStart()
			a.RequireStop()

			warned := logs.FilterMessage(noDeadLetterFile)
			if got := warned.FilterLevelExact(zapcore.WarnLevel).Len(); got != tt.want ||
				warned.Len() != tt.want {
				t.Errorf("%q logged %d times at Warn of %d, want %d", noDeadLetterFile, got,
					warned.Len(), tt.want)
			}
		})
	}
}

func TestUnusableDeadLetterPathFailsNew(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{filepath.Join(file, "dead.jsonl"), dir} {
		env := map[string]string{
			"NOTIFIER_DEADLETTER_PATH": path,
			"NOTIFIER_HTTP_ADDR":       "127.0.0.1:0",
		}
		app := fx.New(
			modules.Notifier,
			fx.Supply(fx.Annotate(modules.MapEnvironment(env), fx.As(new(modules.Environment)))),
			fx.NopLogger,
		)
		err := app.Err()
		if err == nil || !strings.Contains(err.Error(), "NOTIFIER_DEADLETTER_PATH") {
			t.Errorf("fx.New(Notifier) with NOTIFIER_DEADLETTER_PATH=%s: Err() = %v, "+
				"want an error naming the variable", path, err)
		}
	}
}

// TestDeadLetterWriteErrorIsNeverSilent points the dead-letter file at
// /dev/full, where every write fails with ENOSPC as on a full disk. Each
// notification that fails for good must then be logged at Error by id and
// counted, and the service must go on serving.
func TestDeadLetterWriteErrorIsNeverSilent(t *testing.T) {
	t.Parallel()
	const devFull = "/dev/full"
	if _, err := os.Stat(devFull); err != nil {
		t.Skipf("Stat(%s) error = %v", devFull, err)
	}
	ok := fxtest.NewSender()
	sender := senderFunc(func(ctx context.Context, n notification.Notification) error {
		if strings.HasPrefix(n.ID, "fail-") {
			return &notification.DeliveryError{
				Attempts: 1, StatusCode: 400, Permanent: true,
				Err: errors.New("non-2xx response"),
			}
		}
		return ok.Send(ctx, n)
	})
	logger, logs := observedLogger(t)
	var s started
	a := fxtest.New(t,
		fxtest.WithSender(sender),
		fx.Replace(logger, modules.NotificationConfig{Queue: "memory", DeadLetterPath: devFull}),
		populate(&s),
	)
	a.RequireStart()

	postIDs(t, s, "fail-1", "fail-2", "ok-1")
	ok.WaitSent(t, 1)
	if code := get(t, s.url("/healthz")); code != http.StatusOK {
		t.Errorf("GET /healthz after dead-letter errors = %d, want 200", code)
	}
	postIDs(t, s, "ok-2")
	ok.WaitSent(t, 2)
	a.RequireStop()

	checkAccounting(t, s.gatherer, nil)
	if got := counter(t, s.gatherer, "notification_dead_letter_errors_total"); got != 2 {
		t.Errorf("notification_dead_letter_errors_total = %v, want 2", got)
	}
	var logged []string
	for _, e := range logs.FilterMessage("dead letter not written").All() {
		fields := e.ContextMap()
		if e.Level != zapcore.ErrorLevel ||
			!strings.Contains(fields["error"].(string), "no space left on device") {
			t.Errorf("log %q at %v with %v, want Error with ENOSPC", e.Message, e.Level, fields)
		}
		logged = append(logged, fields["id"].(string))
	}
	if slices.Sort(logged); !slices.Equal(logged, []string{"fail-1", "fail-2"}) {
		t.Errorf("ids logged as dead letters not written = %v, want [fail-1 fail-2]", logged)
	}
}
