package jetstream

import (
	"context"
	"errors"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"
)

// ackTimeout bounds the wait for the server to confirm an acknowledgement.
const ackTimeout = 5 * time.Second

// deliver is the pool job of one message. It acknowledges the message when
// the notification was delivered or failed for good, and hands it back with
// a delay when the failure may pass. The job's error is the delivery's, so
// that the pool counts failed tries.
func (q *Queue) deliver(ctx context.Context, d *delivery) error {
	// keepAlive has looked after the message since it was fetched, and goes
	// on doing so while the delivery runs.
	if !q.begin(d) {
		return nil // handed back by Stop before the job ran
	}

	// A sender that panics or exits its goroutine never returns. Deliver
	// has recorded the notification as failed by then; it must not come
	// back.
	returned := false
	defer func() {
		if !returned {
			q.finish(ctx, d)
		}
	}()
	retry, err := q.cfg.Service.Deliver(ctx, d.n, d.last)
	returned = true

	if !retry {
		q.finish(ctx, d)
		return err
	}
	if !q.take(d) {
		return err
	}
	if ctx.Err() != nil && q.draining() {
		// Cut short by this replica's drain: another replica can try at
		// once.
		q.nak(d, 0, nakShutdown)
		return err
	}
	meta, _ := d.msg.Metadata() // dispatch checked it
	q.nak(d, q.cfg.retryDelay(meta.NumDelivered), nakRetry)
	return err
}

// draining reports whether the service has begun to drain.
func (q *Queue) draining() bool {
	select {
	case <-q.cfg.Service.Draining():
		return true
	default:
		return false
	}
}

// finish acknowledges d and waits for the server to confirm, so that a
// notification acknowledged by a replica that is then killed is not
// delivered again.
func (q *Queue) finish(ctx context.Context, d *delivery) {
	if !q.take(d) {
		return
	}
	defer q.signalFreed()

	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ackTimeout)
	defer cancel()
	if err := d.msg.DoubleAck(ctx); err != nil {
		q.log.Warn("ack failed: the notification will be delivered again",
			zap.String("id", d.n.ID), zap.Error(err))
	}
}

// nak hands d back to the stream for redelivery after delay, and counts it
// under reason. The caller has taken d.
func (q *Queue) nak(d *delivery, delay time.Duration, reason string) {
	defer q.signalFreed()
	q.metrics.naks.WithLabelValues(reason).Inc()

	var err error
	if delay > 0 {
		err = d.msg.NakWithDelay(delay)
	} else {
		err = d.msg.Nak()
	}
	if err != nil {
		q.log.Warn("nak failed: the notification waits for AckWait",
			zap.String("id", d.n.ID), zap.Error(err))
		return
	}
	q.log.Debug("notification handed back",
		zap.String("id", d.n.ID), zap.String("reason", reason), zap.Duration("delay", delay))
}

// signalFreed tells the fetch loop that a held message was answered, without
// waiting: a signal already pending says the same.
func (q *Queue) signalFreed() {
	select {
	case q.freed <- struct{}{}:
	default:
	}
}

// keepAlive tells the server, every third of AckWait, that each held message
// is still being worked on, so that a slow delivery, or one waiting for a
// worker, is not handed to another replica. It runs until Stop has drained
// the pool.
func (q *Queue) keepAlive() {
	tick := time.NewTicker(q.cfg.AckWait / 3)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
		case <-q.stopKeeping:
			return
		}
		q.mu.Lock()
		held := make([]*delivery, 0, len(q.held))
		for d := range q.held {
			held = append(held, d)
		}
		q.mu.Unlock()

		for _, d := range held {
			q.inProgress(d)
		}
	}
}

// inProgress resets d's AckWait. A message answered meanwhile needs nothing.
func (q *Queue) inProgress(d *delivery) {
	err := d.msg.InProgress()
	if err != nil && !errors.Is(err, jetstream.ErrMsgAlreadyAckd) {
		q.log.Debug("in-progress failed", zap.String("id", d.n.ID), zap.Error(err))
	}
}
