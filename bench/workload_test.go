package bench

import (
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// submitRetry submits until the peer takes the job, yielding between refusals
// so that the workers can make room.
func submitRetry(submit func() bool) {
	for !submit() {
		runtime.Gosched()
	}
}

// finish times the shutdown after a b.Loop loop, which has stopped the timer:
// the jobs still queued are part of the work the loop submitted.
func finish(b *testing.B, p peer) {
	b.Helper()
	b.StartTimer()
	err := p.shutdown()
	b.StopTimer()
	if err != nil {
		b.Fatalf("shutdown() = %v", err)
	}
}

// preciseAllocs starts counting allocations and returns a function that
// reports them per op as allocs/job, with the fraction that the framework's
// allocs/op truncates (0.99 shows as 0). Call the function with the timer
// stopped; the count covers everything since the call to preciseAllocs.
func preciseAllocs(b *testing.B) (report func()) {
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	return func() {
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(b.N), "allocs/job")
	}
}

// spinSink keeps the result of spin observable, so that the compiler cannot
// drop the loop. spin never returns 0, so it is never written.
var spinSink atomic.Uint64

// spin runs n rounds of xorshift, a fixed amount of arithmetic.
func spin(n int) uint64 {
	x := uint64(88172645463325252)
	for range n {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	return x
}

// cpuJob returns a job that spins for about d on this machine.
func cpuJob(d time.Duration) func() {
	n := spinRounds(d)
	return func() {
		if spin(n) == 0 {
			spinSink.Add(1)
		}
	}
}

// roundsPerMicro is how many rounds of spin run in a microsecond here,
// measured once per process so that every peer runs the same job.
var roundsPerMicro = sync.OnceValue(func() float64 {
	const rounds = 1 << 20
	best := time.Duration(1 << 62)
	for range 5 {
		start := time.Now()
		if spin(rounds) == 0 {
			spinSink.Add(1)
		}
		best = min(best, time.Since(start))
	}
	return rounds / (float64(best) / float64(time.Microsecond))
})

func spinRounds(d time.Duration) int {
	return max(1, int(roundsPerMicro()*float64(d)/float64(time.Microsecond)))
}

// startTimerPump keeps one goroutine per P cycling through the scheduler
// until the returned stop is called.
//
// When the Go runtime on Linux has nothing to run it waits in epoll, whose
// timeout has millisecond resolution, so a 50µs time.Sleep lasts about 1ms in
// an idle process and about 50µs in a busy one. A submitter that retries with
// runtime.Gosched keeps the process busy by itself, while one that blocks
// lets it idle; without the pumps W3 would measure that difference instead of
// the pools. A pump yields at once to any runnable goroutine, so it costs the
// workers little. With one pump only, sleeps still lasted about 90µs under
// blocking peers and 60µs under refusing ones.
func startTimerPump() (stop func()) {
	var done atomic.Bool
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for !done.Load() {
				runtime.Gosched()
			}
		})
	}
	return func() {
		done.Store(true)
		wg.Wait()
	}
}

// latencies holds one duration per job. It grows in fixed chunks, so a slot
// handed to a job never moves while the job may still write it.
type latencies struct {
	chunks [][]time.Duration
	n      int
}

const latencyChunk = 4096

// slot returns the next free slot.
func (l *latencies) slot() *time.Duration {
	if l.n%latencyChunk == 0 {
		l.chunks = append(l.chunks, make([]time.Duration, latencyChunk))
	}
	s := &l.chunks[l.n/latencyChunk][l.n%latencyChunk]
	l.n++
	return s
}

// percentiles returns the given percentiles, from 0 to 100, of the filled
// slots. Call it only once every job has written its slot.
func (l *latencies) percentiles(ps ...float64) []time.Duration {
	all := make([]time.Duration, 0, l.n)
	for _, c := range l.chunks {
		all = append(all, c[:min(len(c), l.n-len(all))]...)
	}
	slices.Sort(all)

	out := make([]time.Duration, len(ps))
	if len(all) == 0 {
		return out
	}
	for i, p := range ps {
		out[i] = all[min(len(all)-1, int(p/100*float64(len(all))))]
	}
	return out
}

// pace waits, yielding, until next, and returns the time the following job is
// due. A late caller gets no burst to catch up: the schedule restarts from
// now, so arrivals stay evenly spaced.
func pace(next time.Time, every time.Duration) time.Time {
	now := time.Now()
	for now.Before(next) {
		runtime.Gosched()
		now = time.Now()
	}
	if now.Sub(next) > every {
		next = now
	}
	return next.Add(every)
}

// micros converts d to a float count of microseconds for b.ReportMetric.
func micros(d time.Duration) float64 {
	return float64(d) / float64(time.Microsecond)
}
