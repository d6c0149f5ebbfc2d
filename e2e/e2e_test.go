//go:build e2e

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// Shape of the load. Four workers behind a queue of 100, each delivery held
// receiverDelay by the receiver, cannot keep up with 50 concurrent clients,
// so both phases see the queue overflow.
const (
	maxWorkers    = 4
	queueSize     = 100
	receiverDelay = 2 * time.Millisecond

	heyConcurrency = 50
	phaseOneSent   = 2000
	phaseTwoSent   = 4000

	// phaseTwoRate paces each of hey's clients in phase two, in requests a
	// second, so that hey is still sending when SIGTERM arrives: unpaced,
	// it sends 4000 requests in about 160 ms, before the receiver has seen
	// sigtermAfter deliveries. 50 clients at 25/s take about 3.2 s and,
	// with the probe, still offer more than the pool can deliver.
	phaseTwoRate = 25

	phaseOneBody = `{"recipient":"e2e","body":"phase one"}`
	phaseTwoBody = `{"recipient":"e2e","body":"phase two"}`

	// The probe sends probeSent requests from probeWorkers goroutines, each
	// at most once per probeInterval: about 1.25 s in all, so that it is
	// still sending when SIGTERM arrives.
	probeSent     = 500
	probeWorkers  = 8
	probeInterval = 20 * time.Millisecond

	// sigtermAfter is how many phase-two deliveries the receiver sees
	// before the test sends SIGTERM.
	sigtermAfter = 200
)

// Bounds of the test and its waits. Each only ends a test that has already
// failed.
const (
	testTimeout  = 4 * time.Minute
	waitTimeout  = 30 * time.Second
	pollInterval = 20 * time.Millisecond
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// TestLoadDeliversEveryAcceptedNotificationOnce drives the notifier with hey
// until its queue overflows, then sends SIGTERM under load. Every 202 must
// end in exactly one delivery, every refusal must be a 503, and the process
// must exit 0.
func TestLoadDeliversEveryAcceptedNotificationOnce(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	h := start(ctx, t)

	one := h.phaseOne(ctx, t)
	two := h.phaseTwo(ctx, t, one)

	line := fmt.Sprintf("e2e: phase1 sent=%d accepted=%d refused503=%d delivered=%d | "+
		"phase2 sent=%d accepted=%d refused503=%d connection_errors=%d delivered=%d "+
		"duplicates=%d exit=%d drain=%.2fs",
		phaseOneSent, one.hey.status(http.StatusAccepted),
		one.hey.status(http.StatusServiceUnavailable), one.delivered,
		phaseTwoSent+probeSent, two.accepted(), two.refused(), two.connErrors(),
		two.delivered, two.duplicates, two.exit, two.drain.Seconds())
	t.Log(line)
	fmt.Println(line)
}

// harness is the running notifier with its receiver and clients.
type harness struct {
	hey    string // path of the hey binary
	base   string // http://host:port of the notifier
	client *http.Client
	proc   *process
	recv   *receiver
}

// start builds and starts the notifier against a fresh receiver and waits
// until it is ready.
func start(ctx context.Context, t *testing.T) *harness {
	t.Helper()
	h := &harness{hey: heyPath(t), recv: newReceiver(t, receiverDelay)}
	bin := buildNotifier(ctx, t)
	addr := freeAddr(ctx, t)
	h.base = "http://" + addr
	h.client = newClient(t)

	h.proc = startNotifier(t, bin, map[string]string{
		"WORKER_POOL_MAX_WORKERS":              strconv.Itoa(maxWorkers),
		"WORKER_POOL_QUEUE_SIZE":               strconv.Itoa(queueSize),
		"WORKER_POOL_SHUTDOWN_TIMEOUT_SECONDS": "30",
		"NOTIFIER_HTTP_ADDR":                   addr,
		"NOTIFIER_WEBHOOK_URL":                 h.recv.srv.URL,
		"NOTIFIER_LOG_LEVEL":                   "warn",
	})
	h.waitReady(ctx, t)
	return h
}

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

// buildNotifier builds cmd/notifier into a temporary directory.
func buildNotifier(ctx context.Context, t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("go command not in PATH: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "notifier")
	cmd := exec.CommandContext(ctx, goTool, "build", "-o", bin,
		"github.com/fxpool/fxpool/cmd/notifier")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build cmd/notifier: %v\n%s", err, out)
	}
	return bin
}

// freeAddr returns a loopback address with a port that was free a moment
// ago.
func freeAddr(ctx context.Context, t *testing.T) string {
	t.Helper()
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("Listen(127.0.0.1:0) error = %v", err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatalf("Close() error = %v", err)
	}
	return addr
}

// newClient returns a client whose idle connections are closed when the
// test ends.
func newClient(t *testing.T) *http.Client {
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

// waitReady polls /readyz until it answers 200.
func (h *harness) waitReady(ctx context.Context, t *testing.T) {
	t.Helper()
	var code int
	var err error
	h.poll(ctx, t, "GET /readyz = 200", func() bool {
		code, err = h.get(ctx, "/readyz", io.Discard)
		return err == nil && code == http.StatusOK
	})
}

// poll calls done every pollInterval until it returns true. It fails the test
// when waitTimeout passes, ctx ends or the notifier exits first.
func (h *harness) poll(ctx context.Context, t *testing.T, what string, done func() bool) {
	t.Helper()
	deadline := time.NewTimer(waitTimeout)
	defer deadline.Stop()
	tick := time.NewTicker(pollInterval)
	defer tick.Stop()

	for !done() {
		select {
		case <-tick.C:
		case <-h.proc.done:
			t.Fatalf("notifier exited while waiting for %s; stderr:\n%s", what, h.proc.stderr())
		case <-deadline.C:
			t.Fatalf("still waiting for %s after %v", what, waitTimeout)
		case <-ctx.Done():
			t.Fatalf("still waiting for %s: %v", what, ctx.Err())
		}
	}
}

// get sends GET path to the notifier and copies the body to w.
func (h *harness) get(ctx context.Context, path string, w io.Writer) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.base+path, nil)
	if err != nil {
		return 0, err
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return 0, err
	}
	_, err = io.Copy(w, resp.Body)
	_ = resp.Body.Close() // read to the end: nothing left to fail
	return resp.StatusCode, err
}

// metrics returns the notifier's metrics, each series (name and labels as
// written) mapped to its value.
func (h *harness) metrics(ctx context.Context) (map[string]float64, error) {
	var buf bytes.Buffer
	code, err := h.get(ctx, "/metrics", &buf)
	if err != nil {
		return nil, err
	}
	if code != http.StatusOK {
		return nil, fmt.Errorf("GET /metrics = %d", code)
	}

	out := map[string]float64{}
	for line := range strings.Lines(buf.String()) {
		line = strings.TrimSpace(line)
		i := strings.LastIndexByte(line, ' ')
		if i < 0 || strings.HasPrefix(line, "#") {
			continue
		}
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			out[line[:i]] = v
		}
	}
	return out, nil
}

// Series of the notification metrics that the test reads.
const (
	acceptedTotal  = `notification_accepted_total`
	deliveredTotal = `notification_deliveries_total{result="delivered"}`
	failedTotal    = `notification_deliveries_total{result="failed"}`
	abandonedTotal = `notification_deliveries_total{result="abandoned"}`
	queueFullTotal = `notification_rejected_total{reason="queue_full"}`
)

// phaseOneResult is what the steady-state phase saw.
type phaseOneResult struct {
	hey       heyResult
	delivered int // unique keys at the receiver
}

// phaseOne runs hey against a notifier that stays up, waits until every
// accepted notification is handled, and checks that the receiver, hey and
// the metrics agree.
func (h *harness) phaseOne(ctx context.Context, t *testing.T) phaseOneResult {
	t.Helper()
	res, err := h.runHey(ctx, phaseOneSent, 0, phaseOneBody)
	if err != nil {
		t.Fatalf("phase 1: %v", err)
	}
	checkHey(t, "phase 1", res, phaseOneSent)
	if res.errors() != 0 {
		t.Errorf("phase 1: hey errors = %v, want none", res.errorDist)
	}

	m := h.waitHandled(ctx, t)
	keys := h.recv.deliveries()
	accepted := res.status(http.StatusAccepted)
	checkAgreement(t, m, len(keys), accepted)
	refused := res.status(http.StatusServiceUnavailable)
	if got := int(m[queueFullTotal]); got != refused {
		t.Errorf("phase 1: %s = %d, want hey's 503 count %d", queueFullTotal, got, refused)
	}
	checkNoDuplicates(t, "phase 1", keys)
	return phaseOneResult{hey: res, delivered: len(keys)}
}

// waitHandled polls /metrics until every accepted notification has a
// delivery result, and returns the metrics.
func (h *harness) waitHandled(ctx context.Context, t *testing.T) map[string]float64 {
	t.Helper()
	var m map[string]float64
	h.poll(ctx, t, "accepted == delivered+failed+abandoned", func() bool {
		var err error
		m, err = h.metrics(ctx)
		handled := m[deliveredTotal] + m[failedTotal] + m[abandonedTotal]
		return err == nil && m[acceptedTotal] == handled
	})
	return m
}

// checkAgreement checks that the receiver's unique keys, hey's 202s and the
// accepted and delivered counters are one and the same number.
func checkAgreement(t *testing.T, m map[string]float64, unique, accepted int) {
	t.Helper()
	counts := map[string]int{
		"receiver unique keys": unique,
		acceptedTotal:          int(m[acceptedTotal]),
		deliveredTotal:         int(m[deliveredTotal]),
	}
	for name, got := range counts {
		if got != accepted {
			t.Errorf("phase 1: %s = %d, want hey's 202 count %d", name, got, accepted)
		}
	}
}

// checkNoDuplicates checks that no key was delivered more than once.
func checkNoDuplicates(t *testing.T, phase string, keys map[string]int) {
	t.Helper()
	if d := duplicates(keys); d != 0 {
		t.Errorf("%s: %d keys delivered more than once, want 0", phase, d)
	}
}

func duplicates(keys map[string]int) int {
	n := 0
	for _, c := range keys {
		if c > 1 {
			n++
		}
	}
	return n
}

// phaseTwoResult is what the SIGTERM phase saw.
type phaseTwoResult struct {
	hey        heyResult
	probe      *probeResult
	delivered  int // unique keys at the receiver added in phase two
	duplicates int // keys delivered more than once, over both phases
	exit       int
	sigtermAt  time.Duration // from the start of the load to SIGTERM
	drain      time.Duration // from SIGTERM to exit
}

func (r phaseTwoResult) accepted() int {
	return r.hey.status(http.StatusAccepted) + len(r.probe.accepted)
}

func (r phaseTwoResult) refused() int {
	return r.hey.status(http.StatusServiceUnavailable) + len(r.probe.refused)
}

func (r phaseTwoResult) connErrors() int {
	return r.hey.errors() + r.probe.connErrors
}

// phaseTwo runs hey and the probe, sends SIGTERM once the receiver has seen
// sigtermAfter more deliveries, and checks that the process exits 0 after
// delivering every accepted notification exactly once.
func (h *harness) phaseTwo(ctx context.Context, t *testing.T, one phaseOneResult) phaseTwoResult {
	t.Helper()
	res, signalled := h.loadAndStop(ctx, t)
	res.exit = h.proc.wait(ctx, t)
	res.drain = h.proc.exited.Sub(signalled)
	if res.exit != 0 {
		t.Errorf("notifier exit code = %d, want 0; stderr:\n%s", res.exit, h.proc.stderr())
	}
	checkLoads(t, res)

	keys := h.recv.deliveries()
	res.delivered = len(keys) - one.delivered
	res.duplicates = duplicates(keys)
	checkNoDuplicates(t, "phase 2", keys)
	checkProbeDelivered(t, res.probe, keys)
	want := one.hey.status(http.StatusAccepted) + res.accepted()
	if len(keys) != want {
		t.Errorf("receiver unique keys = %d, want %d (the 202s of both phases)", len(keys), want)
	}
	return res
}

// checkLoads checks and logs what hey and the probe saw in phase two.
func checkLoads(t *testing.T, res phaseTwoResult) {
	t.Helper()
	checkHey(t, "phase 2", res.hey, phaseTwoSent)
	checkConnErrors(t, res.hey)
	res.probe.check(t)

	// Without these, SIGTERM came after a load had ended, and the phase
	// would pass without testing a stop under load.
	if res.hey.errors() == 0 || res.probe.afterSignal == 0 {
		t.Errorf("hey errors = %d, probe requests after SIGTERM = %d, want both > 0",
			res.hey.errors(), res.probe.afterSignal)
	}

	t.Logf("phase 2: SIGTERM %v after the load began; hey ran %v: %v errors=%d",
		res.sigtermAt.Round(time.Millisecond), res.hey.total.Round(time.Millisecond),
		res.hey.statusDist, res.hey.errors())
	t.Logf("phase 2: probe accepted=%d refused503=%d (shutting down %d) "+
		"connection_errors=%d sent_after_sigterm=%d",
		len(res.probe.accepted), len(res.probe.refused), res.probe.shuttingDown,
		res.probe.connErrors, res.probe.afterSignal)
}

// loadAndStop starts hey and the probe, sends SIGTERM once the receiver has
// seen sigtermAfter more deliveries, and waits for both loads to end. It
// returns their results and when SIGTERM was sent.
func (h *harness) loadAndStop(ctx context.Context, t *testing.T) (phaseTwoResult, time.Time) {
	t.Helper()
	reached := h.recv.reached(h.recv.total() + sigtermAfter)
	loadCtx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		// After a failed wait, stop both loads before waiting for them.
		cancel()
		wg.Wait()
	}()

	var res phaseTwoResult
	var heyErr error
	var signalled atomic.Bool
	begun := time.Now()
	wg.Go(func() { res.hey, heyErr = h.runHey(loadCtx, phaseTwoSent, phaseTwoRate, phaseTwoBody) })
	wg.Go(func() { res.probe = h.runProbe(loadCtx, &signalled) })

	h.waitChan(ctx, t, reached, fmt.Sprintf("%d phase-two deliveries", sigtermAfter))
	signalled.Store(true)
	sent := time.Now()
	res.sigtermAt = sent.Sub(begun)
	if err := h.proc.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("Signal(SIGTERM) error = %v", err)
	}

	wg.Wait()
	if heyErr != nil {
		t.Fatalf("phase 2: %v", heyErr)
	}
	return res, sent
}

// waitChan waits until ch is closed, bounded by waitTimeout and ctx.
func (h *harness) waitChan(ctx context.Context, t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	timer := time.NewTimer(waitTimeout)
	defer timer.Stop()
	select {
	case <-ch:
	case <-timer.C:
		t.Fatalf("still waiting for %s after %v", what, waitTimeout)
	case <-ctx.Done():
		t.Fatalf("still waiting for %s: %v", what, ctx.Err())
	}
}

// checkProbeDelivered checks that every probe ID answered 202 was delivered
// exactly once and that no ID answered 503 was delivered.
func checkProbeDelivered(t *testing.T, p *probeResult, keys map[string]int) {
	t.Helper()
	for _, id := range p.accepted {
		if keys[id] != 1 {
			t.Errorf("deliveries of %s (answered 202) = %d, want 1", id, keys[id])
		}
	}
	for _, id := range p.refused {
		if keys[id] != 0 {
			t.Errorf("deliveries of %s (answered 503) = %d, want 0", id, keys[id])
		}
	}
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

// probeResult is what the probe saw. It is safe for concurrent use until
// runProbe returns; after that, it is read without the lock.
type probeResult struct {
	mu           sync.Mutex
	answers      int      // requests sent; guarded by mu
	accepted     []string // IDs answered 202; guarded by mu
	refused      []string // IDs answered 503; guarded by mu
	shuttingDown int      // 503s that say the service is shutting down; guarded by mu
	connErrors   int      // requests without a response; guarded by mu
	afterSignal  int      // requests sent after SIGTERM; guarded by mu
	problems     []string // guarded by mu
}

// probeAnswer is the result of one probe request.
type probeAnswer struct {
	id         string
	status     int
	retryAfter string
	body       answerBody
	err        error
	sentAfter  bool // SIGTERM had been sent when the request was sent
	errAfter   bool // SIGTERM had been sent when the error was seen
}

// answerBody holds the fields of both a 202 and an error response.
type answerBody struct {
	ID    string `json:"id"`
	Error string `json:"error"`
}

// prober sends the probe's requests.
type prober struct {
	client    *http.Client
	url       string       // the notifications endpoint
	signalled *atomic.Bool // set just before SIGTERM is sent
}

// runProbe sends probeSent notifications with the IDs probe-1 to probe-N and
// records each answer. signalled tells it whether SIGTERM has been sent.
func (h *harness) runProbe(ctx context.Context, signalled *atomic.Bool) *probeResult {
	client := &http.Client{
		Transport: &http.Transport{MaxIdleConnsPerHost: probeWorkers},
		Timeout:   10 * time.Second,
	}
	defer client.CloseIdleConnections()
	p := prober{client: client, url: h.base + "/v1/notifications", signalled: signalled}

	res := &probeResult{}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range probeWorkers {
		wg.Go(func() {
			tick := time.NewTicker(probeInterval)
			defer tick.Stop()
			for i := next.Add(1); i <= probeSent; i = next.Add(1) {
				res.add(p.send(ctx, fmt.Sprintf("probe-%d", i)))
				select {
				case <-tick.C:
				case <-ctx.Done():
					return
				}
			}
		})
	}
	wg.Wait()
	return res
}

// send posts one notification with the given ID.
func (p prober) send(ctx context.Context, id string) probeAnswer {
	a := probeAnswer{id: id, sentAfter: p.signalled.Load()}
	body := fmt.Sprintf(`{"id":%q,"recipient":"e2e","body":"probe"}`, id)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, strings.NewReader(body))
	if err != nil {
		a.err = err
		return a
	}
	req.Header.Set("Content-Type", "application/json")

	resp, err := p.client.Do(req)
	if err == nil {
		a.status, a.retryAfter = resp.StatusCode, resp.Header.Get("Retry-After")
		err = json.NewDecoder(resp.Body).Decode(&a.body)
		_ = resp.Body.Close() // a decode error already says what went wrong
	}
	a.err, a.errAfter = err, p.signalled.Load()
	return a
}

// add records one answer and any rule it breaks.
func (r *probeResult) add(a probeAnswer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.answers++
	if a.sentAfter {
		r.afterSignal++
	}
	switch {
	case a.err != nil && a.status == 0:
		r.connErrors++
		if !a.errAfter {
			r.problems = append(r.problems, fmt.Sprintf("%s: %v before SIGTERM", a.id, a.err))
		}
	case a.err != nil:
		r.problems = append(r.problems, fmt.Sprintf("%s: status %d, body: %v",
			a.id, a.status, a.err))
	case a.status == http.StatusAccepted && a.body.ID == a.id:
		r.accepted = append(r.accepted, a.id)
	case a.status == http.StatusServiceUnavailable:
		r.refused = append(r.refused, a.id)
		if strings.Contains(a.body.Error, "shutting down") {
			r.shuttingDown++
		}
		if a.retryAfter == "" {
			r.problems = append(r.problems, a.id+": 503 without Retry-After")
		}
	default:
		r.problems = append(r.problems, fmt.Sprintf("%s: status %d with body %+v, "+
			"want 202 with its id or 503", a.id, a.status, a.body))
	}
}

// check reports the rules the probe saw broken.
func (r *probeResult) check(t *testing.T) {
	t.Helper()
	for _, p := range r.problems {
		t.Errorf("probe %s", p)
	}
	if r.answers != probeSent {
		t.Errorf("probe requests = %d, want %d", r.answers, probeSent)
	}
}

// receiver is a webhook endpoint that answers each delivery with 200 after
// a delay, and counts deliveries by Idempotency-Key. It is safe for
// concurrent use.
type receiver struct {
	srv   *httptest.Server
	delay time.Duration

	mu      sync.Mutex
	keys    map[string]int // deliveries by key; guarded by mu
	count   int            // all deliveries; guarded by mu
	waiters []waiter       // guarded by mu
}

// waiter is a channel that record closes once count reaches n.
type waiter struct {
	n  int
	ch chan struct{}
}

// newReceiver starts a receiver on loopback. It is closed when the test ends.
func newReceiver(t *testing.T, delay time.Duration) *receiver {
	t.Helper()
	r := &receiver{delay: delay, keys: map[string]int{}}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	if _, err := io.Copy(io.Discard, req.Body); err != nil {
		return
	}
	timer := time.NewTimer(r.delay)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-req.Context().Done():
		return // the sender gave up: not delivered
	}

	r.record(req.Header.Get("Idempotency-Key"))
	w.WriteHeader(http.StatusOK)
}

func (r *receiver) record(key string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.keys[key]++
	r.count++
	r.waiters = slices.DeleteFunc(r.waiters, func(w waiter) bool {
		if r.count < w.n {
			return false
		}
		close(w.ch)
		return true
	})
}

// reached returns a channel that is closed once the receiver has seen n
// deliveries in all.
func (r *receiver) reached(n int) <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	ch := make(chan struct{})
	if r.count >= n {
		close(ch)
		return ch
	}
	r.waiters = append(r.waiters, waiter{n: n, ch: ch})
	return ch
}

// total returns the number of deliveries so far.
func (r *receiver) total() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.count
}

// deliveries returns a copy of the delivery count of each key.
func (r *receiver) deliveries() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]int, len(r.keys))
	for k, n := range r.keys {
		out[k] = n
	}
	return out
}

// process is a running notifier binary.
type process struct {
	cmd    *exec.Cmd
	out    bytes.Buffer  // stderr; written by exec until done is closed
	exited time.Time     // when the exit was seen; set before done is closed
	done   chan struct{} // closed by the goroutine that waits for the exit
}

// startNotifier starts bin with only PATH, HOME and env in its environment.
// A process still running when the test ends is killed.
func startNotifier(t *testing.T, bin string, env map[string]string) *process {
	t.Helper()
	// Not CommandContext: the test decides when the process ends, and a
	// context that ended early would kill it in the middle of its drain.
	p := &process{cmd: exec.Command(bin), done: make(chan struct{})} //nolint:noctx // see above
	p.cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for k, v := range env {
		p.cmd.Env = append(p.cmd.Env, k+"="+v)
	}
	p.cmd.Stderr = &p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}

	go func() {
		_ = p.cmd.Wait() // the exit code is read from ProcessState
		p.exited = time.Now()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// wait waits for the process to exit, bounded by ctx, and returns its exit
// code.
func (p *process) wait(ctx context.Context, t *testing.T) int {
	t.Helper()
	select {
	case <-p.done:
		return p.cmd.ProcessState.ExitCode()
	case <-ctx.Done():
		t.Fatalf("notifier still running: %v", ctx.Err())
		return -1
	}
}

// stderr returns what the process wrote to stderr. Call it only after done
// is closed.
func (p *process) stderr() string {
	select {
	case <-p.done:
		return p.out.String()
	default:
		return "(process still running)"
	}
}
