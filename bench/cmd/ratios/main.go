// Command ratios prints a Markdown table that compares every peer with the
// bare channel pool, from the output of go test -bench in this module. Each
// cell is the median over the runs; a "× bare" cell divides the peer's median
// by bare's.
//
// Usage:
//
//	ratios results/raw.txt >results/table.md
package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/fxpool/fxpool/bench/internal/results"
)

// The peer every ratio divides by.
const base = "bare"

// A column is one metric of one workload.
type column struct {
	header   string
	workload string
	unit     string
	ratio    bool // show the peer's median divided by base's instead
}

var columns = []column{
	{"W1 ns/job", "W1Empty", "ns/op", false},
	{"W1 × bare", "W1Empty", "ns/op", true},
	{"W1 allocs/job", "W1Empty", "allocs/job", false},
	{"W2 ns/job", "W2CPU", "ns/op", false},
	{"W2 × bare", "W2CPU", "ns/op", true},
	{"W3 efficiency", "W3Wait", "efficiency", false},
	{"W3 busy", "W3Wait", "busy", false},
	{"W4 p50 µs", "W4Latency", "p50-µs", false},
	{"W4 p99 µs", "W4Latency", "p99-µs", false},
	{"W5 ns/refusal", "W5Refused", "ns/op", false},
	{"W6 µs", "W6Shutdown", "ns/op", false},
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: ratios raw.txt")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "ratios:", err)
		os.Exit(1)
	}
}

func run(path string, w io.Writer) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}

	s, err := results.Parse(bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("parse %s: %w", path, err)
	}
	_, err = io.WriteString(w, table(s))
	return err
}

// table renders one row per peer of W1, in W1's order, and one column per
// entry of columns. A dash marks a peer that a workload leaves out.
func table(s *results.Set) string {
	var sb strings.Builder
	sb.WriteString("| peer |")
	for _, c := range columns {
		fmt.Fprintf(&sb, " %s |", c.header)
	}
	sb.WriteString("\n|---|")
	sb.WriteString(strings.Repeat("---:|", len(columns)))
	sb.WriteString("\n")

	for _, peer := range s.Peers("W1Empty") {
		fmt.Fprintf(&sb, "| %s |", peer)
		for _, c := range columns {
			fmt.Fprintf(&sb, " %s |", cell(s, c, peer))
		}
		sb.WriteString("\n")
	}
	return sb.String()
}

func cell(s *results.Set, c column, peer string) string {
	v, ok := s.Median(c.workload, peer, c.unit)
	if !ok {
		return "–"
	}
	if c.ratio {
		b, ok := s.Median(c.workload, base, c.unit)
		if !ok || b == 0 {
			return "–"
		}
		return fmt.Sprintf("%.2f×", v/b)
	}
	if c.workload == "W6Shutdown" {
		v /= 1000
	}
	return number(v)
}

// number prints v with about three significant digits, without exponents.
func number(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	case v >= 0.01 || v == 0:
		return fmt.Sprintf("%.2f", v)
	default:
		return "<0.01"
	}
}
