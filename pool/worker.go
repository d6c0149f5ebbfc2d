package pool

import (
	"errors"
	"runtime"
	"runtime/debug"
	"sync/atomic"
	"time"
	"unsafe"

	"go.uber.org/zap"
)

// yieldAfter is how long a worker runs jobs back to back before it yields its
// processor; see worker.loop.
const yieldAfter = 100 * time.Microsecond

// worker is one slot of the pool. One goroutine at a time runs it: the first
// from Start, and a replacement if a job ends that goroutine with
// runtime.Goexit.
type worker struct {
	p     *WorkerPool
	cur   atomic.Pointer[jobContext] // context of the latest job, or nil
	job   jobState
	ctxs  []jobContext // unused contexts; see newContext
	stats workerStats
}

// contextBatch is how many job contexts a worker allocates at once: as many
// as fill 2 KiB, one of the allocator's size classes, with the 8-byte header
// it puts on larger objects that hold pointers (85 while a jobContext is 24
// bytes).
const contextBatch = (2048 - 8) / unsafe.Sizeof(jobContext{})

// newContext returns a fresh context for a job with the given deadline.
//
// Every job needs a context of its own, since a job may keep its context
// after it returns, and the context must then stay ended. Allocating them
// contextBatch at a time makes that one allocation per contextBatch jobs;
// the cost is that a context kept after its job keeps its whole batch, 2 KiB,
// from being collected.
func (w *worker) newContext(deadline time.Duration) *jobContext {
	if len(w.ctxs) == 0 {
		w.ctxs = make([]jobContext, contextBatch)
	}
	c := &w.ctxs[0]
	w.ctxs = w.ctxs[1:]
	c.w = w
	c.deadline = deadline
	return c
}

func newWorker(p *WorkerPool) *worker {
	return &worker{
		p:   p,
		job: jobState{p: p},
		stats: workerStats{
			duration: newHistogram(durationBounds),
			wait:     newHistogram(waitBounds),
		},
	}
}

// run takes queued jobs until the pool drains. If a job calls
// runtime.Goexit, a replacement goroutine takes over the slot, so the pool
// keeps MaxWorkers workers.
func (w *worker) run() {
	goexit := true
	defer func() {
		if goexit {
			// The WaitGroup still counts this goroutine, so adding the
			// replacement cannot race a Wait that has seen zero.
			w.p.workers.Go(w.run)
		}
	}()

	w.loop()
	goexit = false
}

// loop runs queued jobs until the queue is closed and empty.
//
// Reading the clock is a large part of the cost of an empty job, so a job
// that was already waiting when the previous one ended takes that end as its
// start, and only a worker that had to wait reads the clock again.
//
// A worker that has run jobs back to back for yieldAfter yields its
// processor once. The scheduler would otherwise leave it there for 10ms
// before preempting it, and goroutines queued behind it, submitters among
// them, would wait that long.
func (w *worker) loop() {
	p := w.p
	last := time.Duration(-1) // when the previous job ended; -1: unknown
	busy := time.Duration(-1) // when the current run of jobs began; -1: none
	for {
		it, ok := p.queue.pop()
		if !ok {
			if !p.queue.isClosed() {
				w.park()
				last, busy = -1, -1
				continue
			}
			if it, ok = p.queue.popClosed(); !ok {
				return
			}
		}
		p.signalRoom()
		p.wakeIfReady()
		start := last
		if start >= 0 {
			// A job queued after the previous one ended starts no
			// earlier than it was queued.
			start = max(start, it.enqueued)
		}
		last = w.execute(it, start)
		switch {
		case busy < 0:
			busy = last
		case last-busy >= yieldAfter:
			runtime.Gosched()
			// The yield may have taken a while, so the next job reads
			// the clock for its start.
			last, busy = -1, -1
		}
	}
}

// park waits until a submitter hands this worker a token, or until the queue
// has a job or is closed; see WorkerPool.sleepers.
func (w *worker) park() {
	p := w.p
	if p.testHookPark != nil {
		p.testHookPark(false)
	}
	p.sleepers.Add(1)
	if p.testHookPark != nil {
		p.testHookPark(true)
	}
	p.signalRoom() // with no queue, an idle worker is room
	if !p.queue.ready() && !p.queue.isClosed() {
		<-p.wake
		return
	}
	// Take a registration back. If there is none left, a submitter or the
	// drain has claimed this one, and the token on its way is this
	// worker's to take.
	if !p.claimSleeper() {
		<-p.wake
	}
}

// execute runs one job that starts at start, or now if start is negative,
// and returns when it ended. If the shutdown deadline has passed, the job is
// abandoned instead: no queued job starts after the deadline.
func (w *worker) execute(it item, start time.Duration) (end time.Duration) {
	p := w.p
	if start < 0 {
		start = p.clock()
	}
	ctx := w.newContext(start + p.jobTimeout)

	// Publish the context before reading aborting; see WorkerPool.aborting.
	w.cur.Store(ctx)
	if p.aborting.Load() {
		w.job.finish(ctx, start)
		p.abandon(it.job)
		return -1
	}

	w.stats.wait.observe(start - it.enqueued)
	returned := false
	var err error

	// Bookkeeping runs deferred so that it holds however the job ends:
	// a return, a panic, or runtime.Goexit.
	defer func() {
		if !returned {
			err = p.recovered(it.job, recover())
		}
		end = p.clock()
		timedOut := w.job.finish(ctx, end)
		if err != nil || timedOut {
			w.stats.errors.Add(1)
		}
		w.stats.duration.observe(end - start)
	}()

	err = it.job.Execute(ctx)
	returned = true
	return end // set by the deferred function
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
	p.dropped[DropShutdown].inc()
	p.log.Warn("queued job abandoned", zap.String("job", j.Name))
	if p.onDrop != nil {
		p.onDrop(j, DropShutdown)
	}
}
