package bench

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/alitto/pond/v2"
	"github.com/panjf2000/ants/v2"
	"github.com/prometheus/client_golang/prometheus"
	concpool "github.com/sourcegraph/conc/pool"
	"golang.org/x/sync/errgroup"

	"github.com/fxpool/fxpool/pool"
)

// Every peer runs at most workers jobs at once and, where it has a queue,
// holds queueSize more: fxpool's defaults.
const (
	workers   = 10
	queueSize = 1000
)

// A peer is one worker pool under test, behind the few operations the
// workloads need. The functions returned by submitter may be called
// concurrently; the methods are called from one goroutine.
type peer interface {
	// submitter returns a function that submits f once per call and reports
	// whether the pool took it. Peers that wait for room report true. The
	// one-off work of adapting f, such as building a pool.Job, happens here,
	// so the workloads time only the submission, as they would for a caller
	// that reuses its job.
	submitter(f func()) func() bool

	// shutdown stops intake and returns once every accepted job has
	// finished.
	shutdown() error
}

// A parker is a peer without a queue that lets submitters wait for a worker
// instead; parked reports how many are waiting.
type parker interface {
	parked() int
}

// backlog says where a peer keeps jobs that wait for a busy worker.
type backlog int

const (
	backlogNone   backlog = iota // nowhere: it refuses them, or starts them all
	backlogQueue                 // in a queue of queueSize
	backlogParked                // in submitters parked inside submit
)

// A peerSpec names a peer and makes fresh instances of it.
type peerSpec struct {
	name    string
	refuses bool // submit may return false; the peer never waits for room
	backlog backlog
	new     func(tb testing.TB) peer
}

// peers lists every peer, the floor first.
var peers = []peerSpec{
	{name: "bare", backlog: backlogQueue, new: newBare(false)},
	{name: "fxpool", refuses: true, backlog: backlogQueue, new: newFxpool},
	{name: "pond-blocking", backlog: backlogQueue, new: newPond(false)},
	{name: "pond-nonblocking", refuses: true, backlog: backlogQueue, new: newPond(true)},
	{name: "ants-blocking", backlog: backlogParked, new: newAnts(false)},
	{name: "ants-nonblocking", refuses: true, new: newAnts(true)},
	{name: "errgroup", new: newErrgroup},
	{name: "conc", new: newConc},
	{name: "goroutine", new: newGoroutines},
}

// refusingPeers lists the peers whose submit can refuse a job, with bare
// turned into a select with a default case.
func refusingPeers() []peerSpec {
	specs := []peerSpec{{name: "bare", refuses: true, backlog: backlogQueue, new: newBare(true)}}
	for _, s := range peers {
		if s.refuses {
			specs = append(specs, s)
		}
	}
	return specs
}

// backlogPeers lists the peers that can hold a backlog of waiting jobs that
// the benchmark can see is complete.
func backlogPeers() []peerSpec {
	var specs []peerSpec
	for _, s := range peers {
		if s.backlog != backlogNone {
			specs = append(specs, s)
		}
	}
	return specs
}

// bare is the floor: workers goroutines ranging over a buffered channel.
type bare struct {
	jobs        chan func() // the queue; closed by shutdown
	wg          sync.WaitGroup
	nonBlocking bool
}

func newBare(nonBlocking bool) func(testing.TB) peer {
	return func(testing.TB) peer {
		p := &bare{jobs: make(chan func(), queueSize), nonBlocking: nonBlocking}
		for range workers {
			p.wg.Go(func() {
				for f := range p.jobs {
					f()
				}
			})
		}
		return p
	}
}

func (p *bare) submitter(f func()) func() bool {
	if !p.nonBlocking {
		return func() bool {
			p.jobs <- f
			return true
		}
	}
	return func() bool {
		select {
		case p.jobs <- f:
			return true
		default:
			return false
		}
	}
}

func (p *bare) shutdown() error {
	close(p.jobs)
	p.wg.Wait()
	return nil
}

// fxpool is the pool under study, with every metric registered and the
// default per-job timeout, as the service runs it.
type fxpool struct {
	p *pool.WorkerPool
}

func newFxpool(tb testing.TB) peer {
	cfg := pool.Config{
		MaxWorkers:             workers,
		QueueSize:              queueSize,
		ShutdownTimeoutSeconds: 30,
		JobTimeoutSeconds:      30,
	}
	p, err := pool.New(cfg, pool.WithRegisterer(prometheus.NewRegistry()))
	if err != nil {
		tb.Fatalf("pool.New() error = %v", err)
	}
	p.Start()
	return &fxpool{p: p}
}

func (p *fxpool) submitter(f func()) func() bool {
	job := pool.Job{Name: "bench", Execute: func(context.Context) error {
		f()
		return nil
	}}
	return func() bool { return p.p.Submit(job) }
}

func (p *fxpool) shutdown() error {
	return p.p.Shutdown(context.Background())
}

// pondPeer is alitto/pond v2. Its workers are goroutines started on demand and
// ended when the queue is empty.
type pondPeer struct {
	p pond.Pool
}

func newPond(nonBlocking bool) func(testing.TB) peer {
	return func(testing.TB) peer {
		p := pond.NewPool(workers, pond.WithQueueSize(queueSize), pond.WithNonBlocking(nonBlocking))
		return &pondPeer{p: p}
	}
}

func (p *pondPeer) submitter(f func()) func() bool {
	return func() bool { return p.p.Go(f) == nil }
}

func (p *pondPeer) shutdown() error {
	p.p.StopAndWait()
	return nil
}

// antsPeer is panjf2000/ants v2. It has no queue: a job goes straight to an
// idle worker, and otherwise the submitter waits, up to queueSize of them, or
// is refused at once in non-blocking mode.
type antsPeer struct {
	p *ants.Pool
}

func newAnts(nonBlocking bool) func(testing.TB) peer {
	return func(tb testing.TB) peer {
		opt := ants.WithMaxBlockingTasks(queueSize)
		if nonBlocking {
			opt = ants.WithNonblocking(true)
		}
		p, err := ants.NewPool(workers, opt)
		if err != nil {
			tb.Fatalf("ants.NewPool() error = %v", err)
		}
		return &antsPeer{p: p}
	}
}

func (p *antsPeer) submitter(f func()) func() bool {
	return func() bool { return p.p.Submit(f) == nil }
}

func (p *antsPeer) parked() int { return p.p.Waiting() }

func (p *antsPeer) shutdown() error {
	return p.p.ReleaseTimeout(30 * time.Second)
}

// errgroupPeer is x/sync errgroup with SetLimit: a goroutine per job, and Go
// waits while workers are running.
type errgroupPeer struct {
	g errgroup.Group
}

func newErrgroup(testing.TB) peer {
	p := &errgroupPeer{}
	p.g.SetLimit(workers)
	return p
}

func (p *errgroupPeer) submitter(f func()) func() bool {
	fn := func() error {
		f()
		return nil
	}
	return func() bool {
		p.g.Go(fn)
		return true
	}
}

func (p *errgroupPeer) shutdown() error { return p.g.Wait() }

// concPeer is sourcegraph/conc's pool with WithMaxGoroutines: workers started
// on demand, fed through an unbuffered channel, so Go waits when all are busy.
type concPeer struct {
	p *concpool.Pool
}

func newConc(testing.TB) peer {
	return &concPeer{p: concpool.New().WithMaxGoroutines(workers)}
}

func (p *concPeer) submitter(f func()) func() bool {
	return func() bool {
		p.p.Go(f)
		return true
	}
}

func (p *concPeer) shutdown() error {
	p.p.Wait()
	return nil
}

// goroutines starts a goroutine per job, with no bound: the cost of not
// pooling at all.
type goroutines struct {
	wg sync.WaitGroup
}

func newGoroutines(testing.TB) peer { return &goroutines{} }

func (p *goroutines) submitter(f func()) func() bool {
	return func() bool {
		p.wg.Go(f)
		return true
	}
}

func (p *goroutines) shutdown() error {
	p.wg.Wait()
	return nil
}
