package bench

import (
	"sync/atomic"
	"testing"
	"time"
)

func TestPeersRunEveryJob(t *testing.T) {
	t.Parallel()
	for _, s := range append(peers, refusingPeers()...) {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			p := s.new(t)
			var ran atomic.Int64
			submit := p.submitter(func() { ran.Add(1) })

			const jobs = 5000
			for range jobs {
				submitRetry(submit)
			}
			if err := p.shutdown(); err != nil {
				t.Fatalf("shutdown() = %v", err)
			}
			if got := ran.Load(); got != jobs {
				t.Errorf("jobs run after shutdown() = %d, want %d", got, jobs)
			}
		})
	}
}

func TestLatenciesPercentiles(t *testing.T) {
	t.Parallel()
	var l latencies
	const n = latencyChunk*2 + 100
	for i := range n {
		*l.slot() = time.Duration(n - i)
	}

	got := l.percentiles(0, 50, 99)
	want := []time.Duration{1, n/2 + 1, n*99/100 + 1}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("percentiles(0, 50, 99)[%d] = %v, want %v", i, got[i], want[i])
		}
	}
}

func TestSpinRoundsGrowsWithTime(t *testing.T) {
	t.Parallel()
	short, long := spinRounds(time.Microsecond), spinRounds(10*time.Microsecond)
	if short < 1 || long <= short {
		t.Errorf("spinRounds(1µs), spinRounds(10µs) = %d, %d, want 1 <= first < second",
			short, long)
	}
}
