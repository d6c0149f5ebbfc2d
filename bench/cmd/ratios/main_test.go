package main

import (
	"strings"
	"testing"

	"github.com/fxpool/fxpool/bench/internal/results"
)

const sample = `BenchmarkW1Empty/peer=bare-2 	 100	 50.0 ns/op	 0 allocs/job
BenchmarkW1Empty/peer=fxpool-2 	 100	 125 ns/op	 1.004 allocs/job
BenchmarkW5Refused/peer=fxpool-2 	 100	 7.5 ns/op	 0 allocs/job
BenchmarkW6Shutdown/peer=fxpool-2 	 100	 250000 ns/op
`

func TestTableRows(t *testing.T) {
	t.Parallel()
	s, err := results.Parse(strings.NewReader(sample))
	if err != nil {
		t.Fatalf("Parse() error = %v", err)
	}

	got := table(s)
	for _, want := range []string{
		"| bare | 50.0 | 1.00× | 0.00 | – | – | – | – | – | – | – | – |",
		"| fxpool | 125 | 2.50× | 1.00 | – | – | – | – | – | – | 7.50 | 250 |",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("table() lacks row %q; got\n%s", want, got)
		}
	}
}

func TestNumber(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   float64
		want string
	}{
		{1234.6, "1235"},
		{12.34, "12.3"},
		{1.234, "1.23"},
		{0, "0.00"},
		{0.0001, "<0.01"},
	}
	for _, tt := range tests {
		if got := number(tt.in); got != tt.want {
			t.Errorf("number(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
