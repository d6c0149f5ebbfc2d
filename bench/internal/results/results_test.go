package results

import (
	"slices"
	"strings"
	"testing"
)

const sample = `goos: linux
pkg: github.com/fxpool/fxpool/bench
BenchmarkW1Empty/peer=bare-2   	 100	  50.0 ns/op	 0 allocs/job	 0 B/op	 0 allocs/op
BenchmarkW1Empty/peer=bare-2   	 100	  70.0 ns/op	 0 allocs/job	 0 B/op	 0 allocs/op
BenchmarkW1Empty/peer=bare-2   	 100	  60.0 ns/op	 0 allocs/job	 0 B/op	 0 allocs/op
BenchmarkW1Empty/peer=pond-blocking-2 	 100	 80.0 ns/op	 0.5 allocs/job	 16 B/op	 0 allocs/op
BenchmarkW4Latency/peer=pond-blocking 	 100	 40000 ns/op	 0.4 load	 1.5 p50-µs	 9 p99-µs
BenchmarkW4Latency/peer=pond-blocking 	 100	 40000 ns/op	 0.4 load	 2.5 p50-µs	 11 p99-µs
BenchmarkOther-2 	 100	 1.0 ns/op
PASS
`

func TestParseMedians(t *testing.T) {
	t.Parallel()
	s, err := Parse(strings.NewReader(sample))
	if err != nil {
		t.Fatalf("Parse() error = %v", err)
	}

	tests := []struct {
		workload, peer, unit string
		want                 float64
	}{
		{"W1Empty", "bare", "ns/op", 60},
		{"W1Empty", "pond-blocking", "allocs/job", 0.5},
		{"W4Latency", "pond-blocking", "p50-µs", 2},
		{"W4Latency", "pond-blocking", "p99-µs", 10},
	}
	for _, tt := range tests {
		got, ok := s.Median(tt.workload, tt.peer, tt.unit)
		if !ok || got != tt.want {
			t.Errorf("Median(%q, %q, %q) = %v, %v, want %v, true",
				tt.workload, tt.peer, tt.unit, got, ok, tt.want)
		}
	}
}

func TestParseOrder(t *testing.T) {
	t.Parallel()
	s, err := Parse(strings.NewReader(sample))
	if err != nil {
		t.Fatalf("Parse() error = %v", err)
	}

	if got, want := s.Workloads(), []string{"W1Empty", "W4Latency"}; !slices.Equal(got, want) {
		t.Errorf("Workloads() = %q, want %q", got, want)
	}
	if got, want := s.Peers("W1Empty"), []string{"bare", "pond-blocking"}; !slices.Equal(got, want) {
		t.Errorf("Peers(W1Empty) = %q, want %q", got, want)
	}
}

func TestMedianMissing(t *testing.T) {
	t.Parallel()
	var s Set
	if got, ok := s.Median("W1Empty", "bare", "ns/op"); ok {
		t.Errorf("Median() on an empty Set = %v, true, want false", got)
	}
}

func TestParseRejectsMalformedValue(t *testing.T) {
	t.Parallel()
	in := "BenchmarkW1Empty/peer=bare-2 \t 100 \t fast ns/op\n"
	if _, err := Parse(strings.NewReader(in)); err == nil {
		t.Error("Parse() of a non-numeric value = nil error, want an error")
	}
}
