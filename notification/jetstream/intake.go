package jetstream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/fxpool/fxpool/notification"
)

var _ notification.Notifier = (*Queue)(nil)

// Notify validates n, gives it an ID when it has none, and publishes it with
// the ID as its message ID, so that the stream stores one copy of every ID
// published within the duplicate window. It returns the ID only once
// JetStream has acknowledged the publish; a duplicate is acknowledged too,
// and returns the same ID.
//
// It returns an error matching [notification.ErrInvalid] for bad input and
// [notification.ErrShuttingDown] once the service drains or the queue is
// stopped. When JetStream does not acknowledge the publish within
// PublishTimeout, because no server is reachable or the stream has no
// leader, the error matches [notification.ErrQueueFull]: the client should
// try again later, with the same ID. When ctx ends first, Notify returns its
// error; the notification may then have been stored anyway.
func (q *Queue) Notify(ctx context.Context, n notification.Notification) (string, error) {
	return q.cfg.Service.NotifyWith(ctx, n, q.publish)
}

func (q *Queue) publish(ctx context.Context, n notification.Notification) error {
	q.mu.Lock()
	js, running := q.js, q.state == stateRunning
	q.mu.Unlock()
	if !running {
		return fmt.Errorf("%w: %w", notification.ErrShuttingDown, errNotRunning)
	}

	data, err := json.Marshal(n)
	if err != nil {
		return fmt.Errorf("jetstream: encode notification: %w", err)
	}
	pubCtx, cancel := context.WithTimeout(ctx, q.cfg.PublishTimeout)
	defer cancel()

	start := time.Now()
	ack, err := js.Publish(pubCtx, q.cfg.Subject, data,
		jetstream.WithMsgID(n.ID),
		jetstream.WithExpectStream(q.cfg.Stream),
	)
	q.metrics.publish.Observe(time.Since(start).Seconds())
	if err != nil {
		return q.publishError(ctx, n.ID, err)
	}
	if ack.Duplicate {
		q.log.Debug("duplicate notification", zap.String("id", n.ID))
		return notification.ErrDuplicate
	}
	return nil
}

// publishError classifies a failed publish. A client that went away gets
// its own context's error; a closed connection means the replica is
// stopping; anything else means JetStream cannot take the notification now.
func (q *Queue) publishError(ctx context.Context, id string, err error) error {
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.Is(err, nats.ErrConnectionClosed):
		return fmt.Errorf("%w: %w", notification.ErrShuttingDown, err)
	default:
		q.log.Warn("publish failed", zap.String("id", id), zap.Error(err))
		return fmt.Errorf("%w: publish: %w", notification.ErrQueueFull, err)
	}
}
