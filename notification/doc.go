// Package notification accepts notifications from producers and delivers them
// through a [pool.WorkerPool]. [Service.Notify] validates a [Notification] and
// queues its delivery without blocking; a [Sender] delivers it, either
// [WebhookSender] (an HTTP POST, signed, retried with backoff) or [LogSender].
// [NewHandler] exposes Notify as an HTTP API.
//
// # Usage
//
//	svc, err := notification.NewService(notification.ServiceConfig{
//		Pool:   p,
//		Sender: notification.NewLogSender(logger),
//		Logger: logger,
//	})
//	id, err := svc.Notify(ctx, notification.Notification{
//		Recipient: "ops@example.com",
//		Body:      "disk almost full",
//	})
//	switch {
//	case errors.Is(err, notification.ErrInvalid):
//		// Bad input: the error names the field.
//	case errors.Is(err, notification.ErrQueueFull),
//		errors.Is(err, notification.ErrShuttingDown):
//		// Try again later.
//	}
//
// # Shutdown
//
// [Service.Drain] stops intake, waits for the pool to drain, and records every
// notification that was accepted but never ran as abandoned. Notifications
// that fail for good or are abandoned are logged by ID, never by body, and
// written to the [DeadLetterWriter] when one is configured. [DeadLetterFile]
// keeps them as JSON lines; [ReadDeadLetters] reads such a file back, skipping
// a line torn by a crash, and [Replay] posts its notifications to a running
// service.
//
// # Metrics
//
// [NewMetrics] registers the families described on [Metrics]. Every accepted
// notification ends in exactly one delivery result: delivered, failed or
// abandoned.
package notification
