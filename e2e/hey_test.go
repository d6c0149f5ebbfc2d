//go:build e2e

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// heyPath returns the hey binary named by HEY, or else the one in PATH.
func heyPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("HEY"); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("HEY=%s: %v; run make e2e, which installs hey into ./bin", p, err)
		}
		return p
	}
	p, err := exec.LookPath("hey")
	if err != nil {
		t.Fatalf("hey not found: set HEY to its path or put it in PATH; " +
			"run make e2e, which installs github.com/rakyll/hey@v0.1.5 into ./bin")
	}
	return p
}

// heyResult is the part of hey's report that the test reads.
type heyResult struct {
	total      time.Duration  // how long the run took
	statusDist map[int]int    // responses by status code
	errorDist  map[string]int // requests without a response, by error
}

func (r heyResult) status(code int) int { return r.statusDist[code] }

func (r heyResult) errors() int {
	n := 0
	for _, c := range r.errorDist {
		n += c
	}
	return n
}

// runHey runs hey with n POSTs of body from heyConcurrency clients, each
// sending at most rate requests a second (0: as fast as it can), and parses
// its report.
func (h *harness) runHey(ctx context.Context, n, rate int, body string) (heyResult, error) {
	cmd := exec.CommandContext(ctx, h.hey,
		"-n", strconv.Itoa(n),
		"-c", strconv.Itoa(heyConcurrency),
		"-q", strconv.Itoa(rate),
		"-m", http.MethodPost,
		"-T", "application/json",
		"-d", body,
		h.base+"/v1/notifications",
	)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return heyResult{}, fmt.Errorf("hey: %w\n%s", err, stderr.Bytes())
	}
	return parseHey(out)
}

// Lines of hey's report below "Status code distribution:" and
// "Error distribution:".
var (
	heyTotalLine  = regexp.MustCompile(`^\s+Total:\s+([0-9.]+) secs$`)
	heyStatusLine = regexp.MustCompile(`^\s+\[(\d+)\]\s+(\d+) responses$`)
	heyErrorLine  = regexp.MustCompile(`^\s+\[(\d+)\]\s+(.+)$`)
)

// parseHey reads the status code and error distributions of hey's report.
func parseHey(report []byte) (heyResult, error) {
	res := heyResult{statusDist: map[int]int{}, errorDist: map[string]int{}}
	section := ""
	sc := bufio.NewScanner(bytes.NewReader(report))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case section == "" && heyTotalLine.MatchString(line):
			secs, _ := strconv.ParseFloat(heyTotalLine.FindStringSubmatch(line)[1], 64)
			res.total = time.Duration(secs * float64(time.Second))
		case strings.HasPrefix(line, "Status code distribution:"):
			section = "status"
		case strings.HasPrefix(line, "Error distribution:"):
			section = "error"
		case section == "status" && heyStatusLine.MatchString(line):
			m := heyStatusLine.FindStringSubmatch(line)
			code, _ := strconv.Atoi(m[1]) // the pattern allows only digits
			res.statusDist[code], _ = strconv.Atoi(m[2])
		case section == "error" && heyErrorLine.MatchString(line):
			m := heyErrorLine.FindStringSubmatch(line)
			res.errorDist[m[2]], _ = strconv.Atoi(m[1])
		}
	}
	if len(res.statusDist) == 0 {
		return res, fmt.Errorf("hey report has no status codes:\n%s", report)
	}
	return res, sc.Err()
}

// checkHey checks that hey saw only 202s and 503s, and that every request it
// sent is accounted for.
func checkHey(t *testing.T, phase string, r heyResult, sent int) {
	t.Helper()
	total := r.errors()
	for code, n := range r.statusDist {
		total += n
		if code != http.StatusAccepted && code != http.StatusServiceUnavailable {
			t.Errorf("%s: hey got %d responses with status %d, want only 202 and 503",
				phase, n, code)
		}
	}
	if total != sent {
		t.Errorf("%s: hey responses and errors = %d, want %d", phase, total, sent)
	}
}

// connErrorSigns are the texts of the errors a client sees when the server
// closes its listener and connections.
var connErrorSigns = []string{
	"connection refused",
	"connection reset",
	"broken pipe",
	"EOF",
	"server closed idle connection",
}

// checkConnErrors checks that hey's errors are all connection errors, the
// only kind that a server shutting down may cause.
func checkConnErrors(t *testing.T, r heyResult) {
	t.Helper()
	for msg, n := range r.errorDist {
		if !slices.ContainsFunc(connErrorSigns, func(s string) bool {
			return strings.Contains(msg, s)
		}) {
			t.Errorf("phase 2: hey got %d errors %q, want only connection errors", n, msg)
		}
	}
}
