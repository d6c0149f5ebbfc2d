package modules

import "go.uber.org/fx"

// Notifier is the whole notification service: [Logging], [Metrics],
// [WorkerPool], [Notification], [JetStream] and [HTTP], with fx's own events
// sent to the zap logger. It is what cmd/notifier runs.
var Notifier = fx.Options(
	Logging,
	Metrics,
	WorkerPool,
	Notification,
	JetStream,
	HTTP,
	fx.WithLogger(FxLogger),
)
