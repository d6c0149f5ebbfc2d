package modules_test

import (
	"strings"
	"testing"

	"go.uber.org/fx"

	"github.com/fxpool/fxpool/modules"
)

func TestBadEnvironmentFailsNew(t *testing.T) {
	t.Parallel()
	env := map[string]string{"WORKER_POOL_MAX_WORKERS": "0"}
	app := fx.New(
		modules.Notifier,
		fx.Supply(fx.Annotate(modules.MapEnvironment(env), fx.As(new(modules.Environment)))),
		fx.NopLogger,
	)
	want := "WORKER_POOL_MAX_WORKERS must be between 1 and 10000, got 0"
	if err := app.Err(); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("fx.New(Notifier) with %v: Err() = %v, want it to contain %q", env, err, want)
	}
}
