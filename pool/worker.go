package pool

import (
	"context"
	"errors"
	"runtime/debug"
	"time"

	"go.uber.org/zap"
)

// worker runs queued jobs until the pool drains. If a job ends the goroutine
// with runtime.Goexit, a replacement takes its place so the pool keeps
// MaxWorkers workers.
func (p *WorkerPool) worker() {
	goexit := true
	defer func() {
		if goexit {
			// The WaitGroup still counts this goroutine, so adding the
			// replacement cannot race a Wait that has seen zero.
			p.workers.Go(p.worker)
		}
	}()

	p.loop()
	goexit = false
}

func (p *WorkerPool) loop() {
	for {
		select {
		case it := <-p.queue:
			p.execute(it)
		case <-p.stop:
			p.drainQueue()
			return
		}
	}
}

// drainQueue runs what is left in the queue after intake stopped, until the
// queue is empty or the shutdown deadline passes.
func (p *WorkerPool) drainQueue() {
	for {
		select {
		case <-p.abort:
			return
		default:
		}

		select {
		case it := <-p.queue:
			p.execute(it)
		default:
			return
		}
	}
}

// execute runs one job, unless the shutdown deadline has passed, in which case
// the job is abandoned instead: no queued job starts after the deadline.
func (p *WorkerPool) execute(it item) {
	select {
	case <-p.abort:
		p.abandon(it.job)
		return
	default:
	}

	start := time.Now()
	p.metrics.queueWait.Observe(start.Sub(it.enqueued).Seconds())
	p.active.Add(1)
	ctx, cancel := context.WithTimeout(p.base, p.jobTimeout)
	returned := false
	var err error

	// Bookkeeping runs deferred so that it holds however the job ends:
	// a return, a panic, or runtime.Goexit.
	defer func() {
		if !returned {
			err = p.recovered(it.job, recover())
		}
		timedOut := errors.Is(ctx.Err(), context.DeadlineExceeded)
		cancel()
		p.active.Add(-1)
		p.metrics.finished(time.Since(start), err != nil || timedOut)
	}()

	err = it.job.Execute(ctx)
	returned = true
}

var errGoexit = errors.New("pool: job called runtime.Goexit")

// recovered logs a job that did not return: r is the panic value, or nil when
// the job called runtime.Goexit. It returns the error to count.
func (p *WorkerPool) recovered(j Job, r any) error {
	if r == nil {
		p.log.Warn("job exited its goroutine", zap.String("job", j.Name))
		return errGoexit
	}
	p.log.Error("job panicked",
		zap.String("job", j.Name),
		zap.Any("panic", r),
		zap.ByteString("stack", debug.Stack()),
	)
	return errors.New("pool: job panicked")
}

// abandon accounts for an accepted job that will never run.
func (p *WorkerPool) abandon(j Job) {
	p.abandoned.Add(1)
	p.metrics.dropped[DropShutdown].Inc()
	p.log.Warn("queued job abandoned", zap.String("job", j.Name))
	if p.onDrop != nil {
		p.onDrop(j, DropShutdown)
	}
}
