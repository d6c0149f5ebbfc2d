package modules

import (
	"errors"
	"syscall"

	"go.uber.org/fx"
	"go.uber.org/fx/fxevent"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// Logging provides a JSON *zap.Logger writing to stderr at the level set by
// NOTIFIER_LOG_LEVEL, and a [LoggingConfig]. The logger is synced on stop.
var Logging = fx.Module("logging",
	fx.Provide(newLoggingConfig, newLogger),
)

// FxLogger sends fx's own events to the *zap.Logger in the graph. Use it with
// fx.WithLogger.
// Its routine events (each provide, invoke and hook) are logged at debug
// level, so that a service's own lines lead its log at info; errors stay at
// error level.
func FxLogger(l *zap.Logger) fxevent.Logger {
	fl := &fxevent.ZapLogger{Logger: l.Named("fx")}
	fl.UseLogLevel(zapcore.DebugLevel)
	return fl
}

func newLoggingConfig(p envParams) (LoggingConfig, error) {
	var c LoggingConfig
	return c, loadEnv("NOTIFIER_", &c, p.lookuper())
}

func newLogger(lc fx.Lifecycle, c LoggingConfig) (*zap.Logger, error) {
	level, err := zapcore.ParseLevel(c.Level)
	if err != nil {
		return nil, err
	}
	cfg := zap.NewProductionConfig()
	cfg.Level = zap.NewAtomicLevelAt(level)
	cfg.Sampling = nil
	l, err := cfg.Build()
	if err != nil {
		return nil, err
	}

	lc.Append(fx.StopHook(func() error {
		// Syncing a terminal or pipe fails with EINVAL or ENOTTY on some
		// systems; there is nothing to flush in that case.
		if err := l.Sync(); err != nil &&
			!errors.Is(err, syscall.EINVAL) && !errors.Is(err, syscall.ENOTTY) {
			return err
		}
		return nil
	}))
	return l, nil
}
