package pool

import (
	"context"
	"fmt"
	"time"

	"go.uber.org/zap"
)

// cancelGrace is how long Shutdown waits, after cancelling the contexts of
// running jobs at its deadline, for those jobs to return. It is short because
// the deadline has already passed; jobs that honour cancellation return well
// within it.
const cancelGrace = time.Second

// Shutdown stops intake at once, then waits for queued and running jobs to
// finish with live contexts. The wait is bounded by the earlier of ctx and
// ShutdownTimeoutSeconds; when that passes, Shutdown cancels the job
// contexts, starts no further queued job, waits a short grace for running
// jobs to return, and returns an error that counts the jobs still running and
// the queued jobs that never ran. The error matches context.Canceled or
// context.DeadlineExceeded, whichever ended the wait. Abandoned jobs are
// counted as dropped with reason [DropShutdown], logged, and passed to the
// handler set by [WithDropHandler].
//
// Shutdown is safe to call more than once and concurrently: later calls wait
// for the first and return its result, or return early with their own ctx's
// error. Shutdown before [WorkerPool.Start] leaves the pool stopped. Called
// from inside one of the pool's jobs with that job's context, Shutdown starts
// the drain and returns nil without waiting, since the drain waits for the
// calling job. Called from a job with any other context, it cannot tell, and
// waits for the drain, which then ends only at its deadline, since the
// calling job is still running. Jobs that ignore their context can outlive
// Shutdown; the returned error says how many.
func (p *WorkerPool) Shutdown(ctx context.Context) error {
	leader := p.beginShutdown(ctx)
	if ctx.Value(poolKey{}) == p {
		return nil
	}

	if leader {
		<-p.done
		p.drainer.Wait()
		return p.err
	}
	select {
	case <-p.done:
		p.drainer.Wait()
		return p.err
	case <-ctx.Done():
		return fmt.Errorf("pool: shutdown: %w", ctx.Err())
	}
}

// beginShutdown stops intake and starts the drain if no earlier call did. It
// reports whether this call started it.
func (p *WorkerPool) beginShutdown(ctx context.Context) bool {
	p.mu.Lock()
	defer p.mu.Unlock()

	switch p.state {
	case stateIdle:
		p.state = stateStopped
		p.queue.close()
		close(p.stop)
		close(p.done)
		return true
	case stateRunning:
		p.state = stateDraining
		p.running.Store(false)
		p.queue.close()
		close(p.stop)
		if ctx.Value(poolKey{}) == p {
			// The job's own context ends with the job; the drain must not.
			ctx = context.WithoutCancel(ctx)
		}
		p.drainer.Go(func() { p.drain(ctx) })
		return true
	default:
		return false
	}
}

// drain waits for the workers, bounded by ctx and the configured timeout,
// records the result in p.err and closes p.done.
func (p *WorkerPool) drain(ctx context.Context) {
	start := time.Now()
	queued := p.queue.len()
	p.log.Info("drain started", zap.Int("queued", queued), zap.Int("running", p.ActiveWorkers()))

	// The queue is closed, so workers run what is left in it and return.
	// Wake the sleeping ones; a worker that registers as a sleeper from now
	// on sees the queue closed and does not sleep, except to take a token
	// already owed to it.
	for p.claimSleeper() {
		p.wake <- struct{}{}
	}

	workersDone := make(chan struct{})
	go func() {
		p.workers.Wait()
		close(workersDone)
	}()

	timer := time.NewTimer(time.Duration(p.cfg.ShutdownTimeoutSeconds) * time.Second)
	defer timer.Stop()

	var cause error
	select {
	case <-workersDone:
	case <-ctx.Done():
		cause = ctx.Err()
	case <-timer.C:
		cause = context.DeadlineExceeded
	}

	if cause != nil {
		p.err = p.cut(cause, workersDone)
	}

	p.mu.Lock()
	p.state = stateStopped
	p.mu.Unlock()

	p.log.Info("drain finished",
		zap.Duration("duration", time.Since(start)),
		zap.Uint64("abandoned", p.dropped[DropShutdown].load()),
		zap.Bool("cut_short", p.err != nil),
	)
	close(p.done)
}

// cut ends a drain whose deadline passed: it cancels the running jobs, waits
// cancelGrace for them, abandons what is still queued and returns the error.
// The goroutine waiting on workersDone outlives the drain only while jobs
// that ignore their context keep running.
func (p *WorkerPool) cut(cause error, workersDone <-chan struct{}) error {
	p.aborting.Store(true)
	for _, w := range p.slots {
		if ctx := w.cur.Load(); ctx != nil {
			w.job.end(ctx, endedCanceled)
		}
	}

	grace := time.NewTimer(cancelGrace)
	defer grace.Stop()
	select {
	case <-workersDone:
	case <-grace.C:
	}

	// Jobs that workers take from here on are abandoned, not run; take
	// what is left, in case every worker is stuck in a job that ignores
	// its context.
	for {
		it, ok := p.queue.popClosed()
		if !ok {
			break
		}
		p.abandon(it.job)
	}

	running := p.ActiveWorkers()
	if running > 0 {
		p.log.Warn("jobs ignored cancellation", zap.Int("running", running))
	}
	return fmt.Errorf("pool: shutdown cut short: %d jobs still running, %d queued jobs never ran: %w",
		running, p.dropped[DropShutdown].load(), cause)
}
