package notification

import (
	"context"

	"go.uber.org/zap"
)

// LogSender is a [Sender] that logs each notification instead of delivering
// it, for development and tests. It logs sizes, never the subject or body
// text. It is safe for concurrent use.
type LogSender struct {
	logger *zap.Logger
}

var _ Sender = (*LogSender)(nil)

// NewLogSender returns a [LogSender] that logs through logger. A nil logger
// selects zap.NewNop().
func NewLogSender(logger *zap.Logger) *LogSender {
	if logger == nil {
		logger = zap.NewNop()
	}
	return &LogSender{logger: logger}
}

// Send logs n at Info with its id, recipient, subject_bytes and body_bytes.
// It returns a [*DeliveryError] wrapping ctx.Err() if ctx is already done,
// and nil otherwise.
func (s *LogSender) Send(ctx context.Context, n Notification) error {
	if err := ctx.Err(); err != nil {
		return &DeliveryError{Err: err}
	}

	s.logger.Info("notification delivered",
		zap.String("id", n.ID),
		zap.String("recipient", n.Recipient),
		zap.Int("subject_bytes", len(n.Subject)),
		zap.Int("body_bytes", len(n.Body)),
	)
	return nil
}
