package bench

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Job sizes. The wait job is time.Sleep itself: the pool's job is to keep
// workers busy with jobs that mostly wait.
const (
	cpuJobTime     = time.Microsecond       // W2
	waitJobTime    = 50 * time.Microsecond  // W3
	latencyJobTime = 100 * time.Microsecond // W4
)

// W4 paces one submission per latencyEvery. On paper that keeps under a third
// of the workers busy (100µs / (10 × 34µs)), but a short time.Sleep overshoots
// by about 70µs here, so about half are. The reported load metric gives the
// measured share; the pace is tuned so that it is near 0.5 for every peer. A
// faster pace with shorter jobs made the queueing peers tip into a backlog
// that fed on itself.
const latencyEvery = 34 * time.Microsecond

// W5 refuses jobs to this many producer goroutines.
const producers = 8

// runPeers runs fn as a sub-benchmark for each peer, named peer=<name>.
func runPeers(b *testing.B, specs []peerSpec, fn func(*testing.B, peerSpec)) {
	for _, s := range specs {
		b.Run("peer="+s.name, func(b *testing.B) { fn(b, s) })
	}
}

// BenchmarkW1Empty measures the pool's own cost: submitting an empty job and
// running it, including the final shutdown that waits for the last ones. A
// refused job is retried after runtime.Gosched.
func BenchmarkW1Empty(b *testing.B) {
	runPeers(b, peers, func(b *testing.B, s peerSpec) {
		p := s.new(b)
		submit := p.submitter(func() {})
		b.ReportAllocs()
		reportAllocs := preciseAllocs(b)

		for b.Loop() {
			submitRetry(submit)
		}
		finish(b, p)
		reportAllocs()
	})
}

// BenchmarkW2CPU runs jobs of about a microsecond of arithmetic, calibrated
// once per process, so the pool's overhead competes with short real work.
func BenchmarkW2CPU(b *testing.B) {
	job := cpuJob(cpuJobTime)
	runPeers(b, peers, func(b *testing.B, s peerSpec) {
		p := s.new(b)
		submit := p.submitter(job)
		b.ReportAllocs()
		reportAllocs := preciseAllocs(b)

		for b.Loop() {
			submitRetry(submit)
		}
		finish(b, p)
		reportAllocs()
	})
}

// BenchmarkW3Wait runs jobs that sleep 50µs and reports efficiency, the ideal
// time (b.N × 50µs / workers) divided by the time taken. A sleep overshoots by
// an amount that depends on how busy the scheduler is, so it also reports
// job-µs, the measured length of a job, and busy, the share of worker time
// spent in jobs: efficiency is about busy × 50 / job-µs. Timer pumps run
// throughout; see startTimerPump.
func BenchmarkW3Wait(b *testing.B) {
	runPeers(b, peers, func(b *testing.B, s peerSpec) {
		defer startTimerPump()()
		p := s.new(b)
		var busy atomic.Int64
		submit := p.submitter(func() {
			start := time.Now()
			time.Sleep(waitJobTime)
			busy.Add(int64(time.Since(start)))
		})
		b.ReportAllocs()
		reportAllocs := preciseAllocs(b)

		for b.Loop() {
			submitRetry(submit)
		}
		finish(b, p)
		reportAllocs()

		ideal := time.Duration(b.N) * waitJobTime / workers
		b.ReportMetric(float64(ideal)/float64(b.Elapsed()), "efficiency")
		b.ReportMetric(micros(time.Duration(busy.Load()/int64(b.N))), "job-µs")
		b.ReportMetric(float64(busy.Load())/float64(workers*b.Elapsed()), "busy")
	})
}

// BenchmarkW4Latency submits 100µs wait jobs at a steady pace that keeps about
// half the workers busy, and reports the time from calling submit to the job
// starting: p50-µs and p99-µs. For a refusing peer the time includes the
// retries. load is the measured share of worker time spent in jobs.
func BenchmarkW4Latency(b *testing.B) {
	runPeers(b, peers, func(b *testing.B, s peerSpec) {
		p := s.new(b)
		var lat latencies
		var busy atomic.Int64
		b.ReportAllocs()

		next := time.Now()
		for b.Loop() {
			slot := lat.slot()
			var submitted time.Time
			submit := p.submitter(func() {
				start := time.Now()
				*slot = start.Sub(submitted)
				time.Sleep(latencyJobTime)
				busy.Add(int64(time.Since(start)))
			})

			next = pace(next, latencyEvery)
			submitted = time.Now()
			submitRetry(submit)
		}
		finish(b, p)

		ps := lat.percentiles(50, 99)
		b.ReportMetric(micros(ps[0]), "p50-µs")
		b.ReportMetric(micros(ps[1]), "p99-µs")
		b.ReportMetric(float64(busy.Load())/float64(workers*b.Elapsed()), "load")
	})
}

// BenchmarkW5Refused measures the refusal path: producers goroutines calling
// submit on a pool whose workers are blocked and whose queue is full. Only
// peers that can refuse take part.
func BenchmarkW5Refused(b *testing.B) {
	runPeers(b, refusingPeers(), func(b *testing.B, s peerSpec) {
		p := s.new(b)
		release := fill(b, p)
		submit := p.submitter(func() {})
		b.ReportAllocs()
		b.SetParallelism((producers + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
		reportAllocs := preciseAllocs(b)
		b.ResetTimer()

		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if submit() {
					b.Error("submit() on a full pool = true")
					return
				}
			}
		})
		b.StopTimer()
		reportAllocs()
		close(release)
		if err := p.shutdown(); err != nil {
			b.Fatalf("shutdown() = %v", err)
		}
	})
}

// BenchmarkW6Shutdown measures shutdown of a pool holding queueSize empty
// jobs behind workers blocked on a channel: the time from releasing the
// workers to shutdown returning, with every job run. Peers that cannot hold
// such a backlog are left out.
func BenchmarkW6Shutdown(b *testing.B) {
	runPeers(b, backlogPeers(), func(b *testing.B, s peerSpec) {
		b.ReportAllocs()
		for b.Loop() {
			b.StopTimer()
			p := s.new(b)
			release := block(b, p)
			submitters := hold(b, s, p)
			b.StartTimer()

			close(release)
			submitters.Wait()
			if err := p.shutdown(); err != nil {
				b.Fatalf("shutdown() = %v", err)
			}
		}
	})
}

// block occupies every worker of p with a job that waits until the returned
// channel is closed, and returns once all of them have started.
func block(b *testing.B, p peer) chan struct{} {
	b.Helper()
	release := make(chan struct{})
	var started sync.WaitGroup
	started.Add(workers)
	submit := p.submitter(func() {
		started.Done()
		<-release
	})
	for range workers {
		submitRetry(submit)
	}
	started.Wait()
	return release
}

// fill blocks the workers of p and fills its queue, if it has one, until p
// refuses a job.
func fill(b *testing.B, p peer) chan struct{} {
	b.Helper()
	release := block(b, p)
	submit := p.submitter(func() {})
	for range queueSize + 1 {
		if !submit() {
			return release
		}
	}
	b.Fatalf("submit() took %d jobs behind blocked workers, want at most %d",
		queueSize+1, queueSize)
	return nil
}

// hold puts queueSize empty jobs behind the blocked workers of p: in its queue
// or in submitters parked inside submit. The returned group waits for those
// submitters.
func hold(b *testing.B, s peerSpec, p peer) *sync.WaitGroup {
	b.Helper()
	var submitters sync.WaitGroup
	submit := p.submitter(func() {})

	switch s.backlog {
	case backlogQueue:
		for range queueSize {
			if !submit() {
				b.Fatalf("submit() into a queue of %d = false", queueSize)
			}
		}
	case backlogParked:
		var refused atomic.Bool
		for range queueSize {
			submitters.Go(func() {
				if !submit() {
					refused.Store(true)
				}
			})
		}
		pk := p.(parker)
		for pk.parked() < queueSize {
			if refused.Load() {
				b.Fatalf("submit() from a parked submitter = false")
			}
			runtime.Gosched()
		}
	default:
		b.Fatalf("peer %s cannot hold a backlog", s.name)
	}
	return &submitters
}
