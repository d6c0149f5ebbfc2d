package pool

import (
	"cmp"
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
)

// ErrNotRunning is returned by [WorkerPool.SubmitWait] when the pool has not
// been started or has begun to shut down.
var ErrNotRunning = errors.New("pool: not running")

// Job is a unit of work for a [WorkerPool].
type Job struct {
	// Name identifies the job in logs. It never becomes a metric label, so it
	// may be as specific as the caller likes.
	Name string

	// Execute does the work. Its context is derived from the pool, not from
	// the submitter, and ends JobTimeoutSeconds after the job starts or when
	// a shutdown deadline passes.
	Execute func(ctx context.Context) error
}

// DropReason says why a job was not run. Its String form is the value of the
// reason label on the dropped-jobs counter.
type DropReason int

// The reasons a job is not run.
const (
	DropQueueFull  DropReason = iota // refused: the queue was full
	DropNotRunning                   // refused: the pool was not running
	DropShutdown                     // accepted, then abandoned at the shutdown deadline
)

var dropReasons = [...]string{"queue_full", "not_running", "shutdown"}

// String returns the reason as it appears in metrics and logs.
func (r DropReason) String() string {
	if r < 0 || int(r) >= len(dropReasons) {
		return "unknown"
	}
	return dropReasons[r]
}

// state is the lifecycle of a pool. It only moves forward.
type state int

const (
	stateIdle     state = iota // created, not started
	stateRunning               // accepting and running jobs
	stateDraining              // Shutdown began: no intake, queued jobs still run
	stateStopped               // Shutdown finished
)

func (s state) String() string {
	return [...]string{"idle", "running", "draining", "stopped"}[s]
}

// item is a job as it waits in the queue.
type item struct {
	job      Job
	enqueued time.Duration // by the pool's clock
}

// WorkerPool runs jobs on a bounded number of goroutines, with a bounded queue
// in front of them. Create one with [New], call [WorkerPool.Start] once, and
// [WorkerPool.Shutdown] when done; a pool cannot be restarted. All methods are
// safe for concurrent use, including from inside a running job.
type WorkerPool struct {
	cfg        Config
	jobTimeout time.Duration
	epoch      time.Time // origin of the pool's clock
	log        *zap.Logger
	onDrop     func(Job, DropReason)
	collector  *collector

	// queue holds accepted jobs. With QueueSize 0 it has MaxWorkers places,
	// and a job enters it only with a sleeping worker claimed for it.
	// Shutdown closes it, which stops intake at one point that every push
	// agrees on, so Submit needs no lock to race Shutdown safely.
	queue *ring

	// sleepers counts workers that found the queue empty and wait, or are
	// about to wait, for a token on wake, less the workers already owed a
	// token. A submitter that pushes a job claims one by decrementing it,
	// then sends the token; a worker increments it before it looks at the
	// queue a last time. Each side writes its word and then reads the
	// other's, and sync/atomic is sequentially consistent, so at least one
	// sees the other: a worker never sleeps through a job. Tokens on wake
	// never outnumber the workers waiting for one, so wake, sized
	// MaxWorkers, never blocks a sender.
	sleepers atomic.Int32
	wake     chan struct{}

	// roomWaiters counts SubmitWait calls waiting for room; room is closed,
	// and replaced, to wake them all.
	roomWaiters atomic.Int32
	room        atomic.Pointer[chan struct{}]

	mu    sync.Mutex
	state state // guarded by mu

	// running mirrors state == stateRunning, for Submit, SubmitWait and
	// IsRunning, which read it without the lock.
	running atomic.Bool

	stop chan struct{} // closed under mu when Shutdown begins
	done chan struct{} // closed when the drain has finished, or at once by a Shutdown before Start
	err  error         // result of the drain; written before done is closed

	// aborting is set when the shutdown deadline passes. A worker publishes
	// its job's context and then reads aborting; the drain sets aborting
	// and then reads each worker's context. So either the worker sees the
	// abort and does not start the job, or the drain sees the context and
	// cancels it.
	aborting atomic.Bool

	// testHookPark, when set, runs as a worker that found the queue empty
	// goes to sleep: before it registers as a sleeper and after. Tests use
	// it to submit in those moments.
	testHookPark func(registered bool)

	slots   []*worker // one per worker goroutine, fixed at New
	dropped [len(dropReasons)]counter

	workers sync.WaitGroup // worker goroutines
	drainer sync.WaitGroup // the drain goroutine
}

// poolKey is the key under which a job's context holds its pool.
type poolKey struct{}

// New returns a pool configured by cfg and opts. It starts no goroutine. It
// returns an error if cfg is invalid, an option is invalid, or the metrics
// cannot be registered; in that case nothing stays registered.
func New(cfg Config, opts ...Option) (*WorkerPool, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}

	o := options{logger: zap.NewNop()}
	for _, opt := range opts {
		opt.apply(&o)
	}
	if err := o.validate(); err != nil {
		return nil, err
	}

	p := &WorkerPool{
		cfg:        cfg,
		jobTimeout: time.Duration(cfg.JobTimeoutSeconds) * time.Second,
		epoch:      time.Now(),
		log:        o.logger.Named("pool").With(zap.String("pool", o.name)),
		onDrop:     o.onDrop,
		queue:      newRing(cmp.Or(cfg.QueueSize, cfg.MaxWorkers)),
		wake:       make(chan struct{}, cfg.MaxWorkers),
		stop:       make(chan struct{}),
		done:       make(chan struct{}),
		slots:      make([]*worker, cfg.MaxWorkers),
	}
	for i := range p.slots {
		p.slots[i] = newWorker(p)
	}
	room := make(chan struct{})
	p.room.Store(&room)
	for r := range p.dropped {
		p.dropped[r] = newCounter()
	}
	p.collector = newCollector(o.name, p)

	if o.registerer != nil {
		if err := p.collector.register(o.registerer); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// Start starts the workers and logs the configuration. It does nothing if
// the pool is already running; a pool that has been shut down stays stopped,
// and Start logs a warning.
func (p *WorkerPool) Start() {
	p.mu.Lock()
	s := p.state
	if s == stateIdle {
		p.state = stateRunning
		p.running.Store(true)
		for _, w := range p.slots {
			p.workers.Go(w.run)
		}
	}
	p.mu.Unlock()

	switch s {
	case stateIdle:
		p.log.Info("pool started",
			zap.Int("max_workers", p.cfg.MaxWorkers),
			zap.Int("queue_size", p.cfg.QueueSize),
			zap.Int("job_timeout_seconds", p.cfg.JobTimeoutSeconds),
			zap.Int("shutdown_timeout_seconds", p.cfg.ShutdownTimeoutSeconds),
		)
	case stateDraining, stateStopped:
		p.log.Warn("start ignored: pool is single-use", zap.Stringer("state", s))
	}
}

// Submit queues j without blocking. It returns false, and counts the job as
// dropped, when the queue is full or the pool is not running. When the queue
// is full the new job is the one dropped. Submit may be called from inside a
// job.
func (p *WorkerPool) Submit(j Job) bool {
	if !p.running.Load() {
		p.refuse(j, DropNotRunning)
		return false
	}
	switch p.offer(j) {
	case pushOK:
		return true
	case pushFull:
		p.refuse(j, DropQueueFull)
	case pushClosed:
		p.refuse(j, DropNotRunning)
	}
	return false
}

// SubmitWait queues j, waiting for room in the queue. It returns nil once the
// job is queued, ctx.Err() if ctx ends first, and [ErrNotRunning] if the pool
// is not running or begins to shut down while it waits. A job refused for ctx
// counts as dropped because the queue was full. Called from inside a job with
// the queue full, it waits like any other caller: use [WorkerPool.Submit]
// there.
func (p *WorkerPool) SubmitWait(ctx context.Context, j Job) error {
	if !p.running.Load() {
		p.refuse(j, DropNotRunning)
		return ErrNotRunning
	}
	r := p.offer(j)
	if r == pushFull {
		// Wait for room. The waiter registers, loads the signal, then
		// tries: a worker that makes room after the try sees the waiter
		// and closes the channel it loaded.
		p.roomWaiters.Add(1)
		defer p.roomWaiters.Add(-1)
		for r == pushFull {
			room := *p.room.Load()
			if r = p.offer(j); r != pushFull {
				break
			}
			select {
			case <-room:
			case <-ctx.Done():
				p.refuse(j, DropQueueFull)
				return ctx.Err()
			case <-p.stop:
				p.refuse(j, DropNotRunning)
				return ErrNotRunning
			}
		}
	}
	if r == pushClosed {
		p.refuse(j, DropNotRunning)
		return ErrNotRunning
	}
	return nil
}

// offer queues j, or with no queue hands it to an idle worker.
func (p *WorkerPool) offer(j Job) pushResult {
	fill := func() item { return item{job: j, enqueued: p.clock()} }
	if p.cfg.QueueSize > 0 {
		r := p.queue.push(fill)
		if r == pushOK {
			p.wakeOne()
		}
		return r
	}

	if !p.claimSleeper() {
		return pushFull
	}
	// Each job in the queue has a sleeping worker claimed for it, and there
	// are at most MaxWorkers of those, so the push fails for want of room
	// only while a worker stalled in taking a job holds its cell; see ring.
	r := p.queue.push(fill)
	for r == pushFull {
		runtime.Gosched()
		r = p.queue.push(fill)
	}
	p.wake <- struct{}{} // owed to the claimed sleeper, even if the push failed
	return r
}

// claimSleeper takes one sleeper's registration, if there is one. The caller
// then owes a token on wake.
func (p *WorkerPool) claimSleeper() bool {
	for {
		n := p.sleepers.Load()
		if n == 0 {
			return false
		}
		if p.sleepers.CompareAndSwap(n, n-1) {
			return true
		}
	}
}

// wakeOne wakes one sleeping worker, if there is one, and reports whether it
// did.
func (p *WorkerPool) wakeOne() bool {
	if !p.claimSleeper() {
		return false
	}
	p.wake <- struct{}{}
	return true
}

// wakeIfReady wakes a sleeping worker if the queue holds a job. Every push
// wakes a sleeper, but a sleeper woken for a job that another worker took
// sleeps again, and so does one that finds the oldest cell still being
// filled by a preempted submitter; the jobs behind it would then wait with
// workers asleep. So a worker that takes a job passes the wake on. With no
// queue this can take a sleeper a submitter could have had, and refuse that
// submitter briefly; that is the price of never leaving a job waiting while
// a worker sleeps.
func (p *WorkerPool) wakeIfReady() {
	if p.sleepers.Load() > 0 && p.queue.ready() {
		p.wakeOne()
	}
}

// signalRoom wakes every SubmitWait call waiting for room, if there are any.
// Workers call it when they take a job from the queue or fall idle.
func (p *WorkerPool) signalRoom() {
	if p.roomWaiters.Load() == 0 {
		return
	}
	next := make(chan struct{})
	close(*p.room.Swap(&next))
}

// refuse accounts for a job that was never accepted.
func (p *WorkerPool) refuse(j Job, reason DropReason) {
	p.dropped[reason].inc()
	if ce := p.log.Check(zap.DebugLevel, "job refused"); ce != nil {
		ce.Write(zap.String("job", j.Name), zap.Stringer("reason", reason))
	}
	if p.onDrop != nil {
		p.onDrop(j, reason)
	}
}

// QueueDepth returns the number of jobs waiting for a worker.
func (p *WorkerPool) QueueDepth() int { return p.queue.len() }

// ActiveWorkers returns the number of jobs running now. It reads every
// worker, so it costs time in proportion to MaxWorkers.
func (p *WorkerPool) ActiveWorkers() int {
	n := 0
	for _, w := range p.slots {
		if c := w.cur.Load(); c != nil && c.ended.Load()&returned == 0 {
			n++
		}
	}
	return n
}

// clock returns the time since the pool was created. It reads only the
// monotonic clock, which costs half as much as time.Now.
func (p *WorkerPool) clock() time.Duration {
	return time.Since(p.epoch)
}

// IsRunning reports whether the pool accepts jobs. It turns false as soon as
// [WorkerPool.Shutdown] begins.
func (p *WorkerPool) IsRunning() bool {
	return p.running.Load()
}
