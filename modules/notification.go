package modules

import (
	"context"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/fxpool/fxpool/notification"
	"github.com/fxpool/fxpool/pool"
)

// Notification provides a [NotificationConfig] read from the NOTIFIER_
// variables, a [notification.Sender] (a webhook sender when
// NOTIFIER_WEBHOOK_URL is set, a log sender otherwise) and the
// *notification.Service that producers call. On stop the service waits for
// the pool to drain, records what never ran, and then releases the sender's
// connections and the dead-letter file.
var Notification = fx.Module("notification",
	fx.Provide(newNotificationConfig, newSender, newDeadLetters, newService),
	fx.Provide(newNotificationMetrics, fx.Private),
)

func newNotificationConfig(p envParams) (NotificationConfig, error) {
	var c NotificationConfig
	return c, loadEnv("NOTIFIER_", &c, p.lookuper())
}

func newNotificationMetrics(r prometheus.Registerer) (*notification.Metrics, error) {
	return notification.NewMetrics(r)
}

type senderParams struct {
	fx.In

	Config     NotificationConfig
	PoolConfig pool.Config
	Logger     *zap.Logger
	Metrics    *notification.Metrics
	Lifecycle  fx.Lifecycle
}

func newSender(p senderParams) (notification.Sender, error) {
	p.Logger.Info("notification configuration",
		zap.String("webhook_url", notification.RedactURL(p.Config.WebhookURL)),
		secret("webhook_secret", p.Config.WebhookSecret),
		zap.String("deadletter_path", p.Config.DeadLetterPath),
		zap.String("queue", p.Config.Queue),
	)
	if p.Config.WebhookURL == "" {
		return notification.NewLogSender(p.Logger), nil
	}

	s, err := notification.NewWebhookSender(notification.WebhookConfig{
		URL:       p.Config.WebhookURL,
		Secret:    p.Config.WebhookSecret,
		MaxConns:  p.PoolConfig.MaxWorkers,
		Logger:    p.Logger,
		OnAttempt: p.Metrics.Attempt,
	})
	if err != nil {
		return nil, err
	}
	p.Lifecycle.Append(fx.StopHook(s.Close))
	return s, nil
}

func newDeadLetters(
	c NotificationConfig,
	log *zap.Logger,
	lc fx.Lifecycle,
) (notification.DeadLetterWriter, error) {
	if c.DeadLetterPath == "" {
		log.Warn("no dead-letter file: undeliverable notifications are only logged")
		return nil, nil
	}
	f, err := notification.OpenDeadLetterFile(c.DeadLetterPath)
	if err != nil {
		return nil, fmt.Errorf("NOTIFIER_DEADLETTER_PATH: %w", err)
	}
	lc.Append(fx.StopHook(f.Close))
	return f, nil
}

type serviceParams struct {
	fx.In

	Pool        *pool.WorkerPool
	Sender      notification.Sender
	Logger      *zap.Logger
	Metrics     *notification.Metrics
	DeadLetters notification.DeadLetterWriter
	Lifecycle   fx.Lifecycle
}

func newService(p serviceParams) (*notification.Service, error) {
	svc, err := notification.NewService(notification.ServiceConfig{
		Pool:        p.Pool,
		Sender:      p.Sender,
		Logger:      p.Logger,
		Metrics:     p.Metrics,
		DeadLetters: p.DeadLetters,
	})
	if err != nil {
		return nil, err
	}
	p.Lifecycle.Append(fx.StopHook(func(ctx context.Context) {
		// The pool's own stop hook returns the drain's error; this hook
		// only makes sure the drain is over before the sender and the
		// dead-letter file, whose stop hooks run next, are closed.
		_ = svc.Drain(ctx)
	}))
	return svc, nil
}
