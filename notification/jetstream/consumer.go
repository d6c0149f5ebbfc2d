package jetstream

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"

	"github.com/fxpool/fxpool/notification"
	"github.com/fxpool/fxpool/pool"
)

// Bounds of the fetch loop. While no worker is free, the loop looks again
// after roomPollMin, doubling the wait up to roomPollMax.
const (
	roomPollMin = time.Millisecond
	roomPollMax = 50 * time.Millisecond
)

// delivery is one message taken from the consumer.
type delivery struct {
	msg  jetstream.Msg
	n    notification.Notification
	last bool // the last try: a failure is final

	started bool // guarded by Queue.mu; the pool began the job
}

// fetchLoop asks the consumer for as many messages as the pool has free
// workers, and hands each to the pool, until Stop or the service's drain.
func (q *Queue) fetchLoop(consumer jetstream.Consumer) {
	// ctx ends when the loop must stop. The watcher that ends it is the
	// loop's own and is waited for on return.
	ctx, cancel := context.WithCancel(context.Background())
	var watcher sync.WaitGroup
	watcher.Go(func() {
		defer cancel()
		select {
		case <-q.stopFetching:
		case <-q.cfg.Service.Draining():
		case <-ctx.Done():
		}
	})
	defer func() {
		cancel()
		watcher.Wait()
	}()

	for {
		room := q.waitForRoom(ctx)
		if room == 0 {
			return
		}
		batch, err := consumer.Fetch(room, jetstream.FetchMaxWait(q.cfg.FetchWait))
		if err != nil {
			q.log.Debug("fetch failed", zap.Error(err))
			q.pause(ctx)
			continue
		}
		for msg := range batch.Messages() {
			q.dispatch(ctx, msg)
		}
		if err := batch.Error(); err != nil {
			q.log.Debug("fetch ended early", zap.Error(err))
			q.pause(ctx)
		}
	}
}

// pause waits FetchWait after a failed fetch, so that an unreachable server
// is not asked in a tight loop, or until ctx ends.
func (q *Queue) pause(ctx context.Context) {
	timer := time.NewTimer(q.cfg.FetchWait)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-ctx.Done():
	}
}

// waitForRoom waits until the pool has a free worker that no message of
// this queue is waiting for, and returns how many there are. It returns 0
// once ctx ends.
//
// A delivery of this queue signals freed just before its job returns, while
// the pool still counts it as running, so the loop looks again soon after a
// signal, then less and less often: the pool may also be busy with jobs the
// queue does not know of, which send no signal.
func (q *Queue) waitForRoom(ctx context.Context) int {
	wait := roomPollMin
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for ctx.Err() == nil {
		if room := q.room(); room > 0 {
			return room
		}
		timer.Reset(wait)
		select {
		case <-q.freed:
			wait = roomPollMin
		case <-timer.C:
			wait = min(2*wait, roomPollMax)
		case <-ctx.Done():
		}
	}
	return 0
}

// room returns the number of workers free for new messages: the pool's idle
// workers less its queued jobs, and never more than the workers not already
// promised to messages this queue holds, since a job just submitted may not
// show in the pool's counts yet.
func (q *Queue) room() int {
	workers := q.cfg.PoolConfig.MaxWorkers
	free := workers - q.cfg.Pool.ActiveWorkers() - q.cfg.Pool.QueueDepth()
	q.mu.Lock()
	unpromised := workers - len(q.held)
	q.mu.Unlock()
	return min(free, unpromised)
}

// dispatch submits the delivery of msg to the pool, or hands msg back when
// ctx has ended or the pool refuses it.
func (q *Queue) dispatch(ctx context.Context, msg jetstream.Msg) {
	var n notification.Notification
	// A message that cannot be delivered is terminated, never redelivered.
	// Term without a reason: NATS 2.9 does not take one.
	if err := json.Unmarshal(msg.Data(), &n); err != nil {
		q.log.Error("message is not a notification", zap.Error(err))
		_ = msg.Term()
		return
	}
	meta, err := msg.Metadata()
	if err != nil {
		q.log.Error("message has no metadata", zap.String("id", n.ID), zap.Error(err))
		_ = msg.Term()
		return
	}

	d := &delivery{msg: msg, n: n, last: meta.NumDelivered >= uint64(q.cfg.MaxDeliveries)}
	q.mu.Lock()
	q.held[d] = struct{}{}
	q.mu.Unlock()

	if ctx.Err() != nil {
		q.handBack(d)
		return
	}
	job := pool.Job{Name: n.ID, Execute: func(ctx context.Context) error {
		return q.deliver(ctx, d)
	}}
	// SubmitWait rather than Submit: room is only an estimate, and a
	// moment's wait for a worker beats handing the message back.
	if err := q.cfg.Pool.SubmitWait(ctx, job); err != nil {
		q.handBack(d)
	}
}

// handBack gives d back to the stream at once, if it is still held.
func (q *Queue) handBack(d *delivery) {
	if q.take(d) {
		q.nak(d, 0, nakShutdown)
	}
}

// take removes d from the held messages and reports whether it was there,
// that is, whether the caller now answers it.
func (q *Queue) take(d *delivery) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	_, ok := q.held[d]
	delete(q.held, d)
	return ok
}

// begin marks d as started and reports whether it is still held.
func (q *Queue) begin(d *delivery) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	_, ok := q.held[d]
	d.started = ok
	return ok
}
