package main

import (
	"image/color"
	"strings"
	"testing"

	"github.com/fxpool/fxpool/bench/internal/results"
)

const sample = `BenchmarkW1Empty/peer=bare-2 	 100	 50.0 ns/op
BenchmarkW1Empty/peer=fxpool-2 	 100	 125 ns/op
BenchmarkW4Latency/peer=bare-2 	 100	 40000 ns/op	 3 p99-µs
BenchmarkW4Latency/peer=fxpool-2 	 100	 40000 ns/op	 9 p99-µs
`

func TestRenderDrawsEveryPeer(t *testing.T) {
	t.Parallel()
	s, err := results.Parse(strings.NewReader(sample))
	if err != nil {
		t.Fatalf("Parse() error = %v", err)
	}

	img := render(s)
	if got, want := img.Bounds().Dy(), margin+2*(titleH+2*rowH+margin); got != want {
		t.Errorf("render() height = %d, want %d", got, want)
	}

	// The largest bar of each panel spans the plot, so fxpool's colour
	// reaches its right end on both rows.
	right := width - valueWidth - margin - 1
	found := 0
	for y := range img.Bounds().Dy() {
		if img.At(right, y) == color.Color(ownColor) {
			found++
		}
	}
	if want := 2 * barH; found != want {
		t.Errorf("rows of fxpool's colour at the plot's right edge = %d, want %d", found, want)
	}
}
