// Package results reads the text that go test -bench prints and summarises
// the benchmarks of this module by workload, peer and unit.
package results

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// Set holds every value reported for each workload, peer and unit. The zero
// value is empty and ready to use. A Set is not safe for concurrent use.
type Set struct {
	values    map[key][]float64
	workloads []string            // in the order first seen
	peers     map[string][]string // by workload, in the order first seen
}

type key struct {
	workload, peer, unit string
}

// Parse reads go test -bench output and returns the values of every
// benchmark named Benchmark<workload>/peer=<peer>. It ignores every other
// line, including other benchmarks. It returns an error if a benchmark line
// is malformed or reading fails.
func Parse(r io.Reader) (*Set, error) {
	s := &Set{}
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		if err := s.addLine(sc.Text()); err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read benchmarks: %w", err)
	}
	return s, nil
}

// addLine records one line of output if it is a benchmark of a peer.
func (s *Set) addLine(line string) error {
	fields := strings.Fields(line)
	if len(fields) < 4 || !strings.HasPrefix(fields[0], "Benchmark") {
		return nil
	}
	workload, peer, ok := splitName(fields[0])
	if !ok {
		return nil
	}
	if len(fields)%2 != 0 {
		return fmt.Errorf("benchmark %s: values and units do not pair up", fields[0])
	}

	for i := 2; i < len(fields); i += 2 {
		v, err := strconv.ParseFloat(fields[i], 64)
		if err != nil {
			return fmt.Errorf("benchmark %s: %w", fields[0], err)
		}
		s.add(key{workload, peer, fields[i+1]}, v)
	}
	return nil
}

// splitName turns "BenchmarkW1Empty/peer=pond-blocking-2" into "W1Empty" and
// "pond-blocking", dropping the -GOMAXPROCS suffix.
func splitName(name string) (workload, peer string, ok bool) {
	workload, peer, ok = strings.Cut(strings.TrimPrefix(name, "Benchmark"), "/peer=")
	if !ok || workload == "" || strings.Contains(peer, "/") {
		return "", "", false
	}
	if i := strings.LastIndexByte(peer, '-'); i > 0 {
		if _, err := strconv.Atoi(peer[i+1:]); err == nil {
			peer = peer[:i]
		}
	}
	return workload, peer, peer != ""
}

func (s *Set) add(k key, v float64) {
	if s.values == nil {
		s.values = make(map[key][]float64)
		s.peers = make(map[string][]string)
	}
	if _, seen := s.peers[k.workload]; !seen {
		s.workloads = append(s.workloads, k.workload)
	}
	if !slices.Contains(s.peers[k.workload], k.peer) {
		s.peers[k.workload] = append(s.peers[k.workload], k.peer)
	}
	s.values[k] = append(s.values[k], v)
}

// Workloads returns the workloads seen, such as "W1Empty", in the order they
// first appeared.
func (s *Set) Workloads() []string {
	return slices.Clone(s.workloads)
}

// Peers returns the peers seen in workload, in the order they first
// appeared.
func (s *Set) Peers(workload string) []string {
	return slices.Clone(s.peers[workload])
}

// Median returns the median of the values reported in unit, such as "ns/op",
// by peer in workload. It reports false if there are none.
func (s *Set) Median(workload, peer, unit string) (float64, bool) {
	vs := slices.Clone(s.values[key{workload, peer, unit}])
	if len(vs) == 0 {
		return 0, false
	}
	slices.Sort(vs)
	n := len(vs)
	if n%2 == 1 {
		return vs[n/2], true
	}
	return (vs[n/2-1] + vs[n/2]) / 2, true
}
