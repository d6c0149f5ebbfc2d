//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/fxpool/fxpool/internal/servicetest"
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

	// sigtermAfter is how many phase-two deliveries the receiver sees
	// before the test sends SIGTERM.
	sigtermAfter = 200
)

// testTimeout bounds the loads and the wait for the exit; servicetest's
// WaitTimeout bounds every other wait. Each only ends a test that has
// already failed.
const testTimeout = 4 * time.Minute

func TestMain(m *testing.M) {
	servicetest.Main(m)
}

// TestLoadDeliversEveryAcceptedNotificationOnce drives the notifier with hey
// until its queue overflows, then sends SIGTERM under load. Every 202 must
// end in exactly one delivery, every refusal must be a 503, and the process
// must exit 0.
func TestLoadDeliversEveryAcceptedNotificationOnce(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	defer cancel()
	h := start(t)

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

// harness is the running notifier with its receiver.
type harness struct {
	hey  string // path of the hey binary
	base string // http://host:port of the notifier
	proc *servicetest.Process
	recv *servicetest.Receiver
}

// start builds and starts the notifier against a fresh receiver and waits
// until it is ready.
func start(t *testing.T) *harness {
	t.Helper()
	h := &harness{hey: heyPath(t), recv: servicetest.NewReceiver(t, receiverDelay)}
	h.proc, h.base = servicetest.StartNotifier(t, map[string]string{
		"WORKER_POOL_MAX_WORKERS":              strconv.Itoa(maxWorkers),
		"WORKER_POOL_QUEUE_SIZE":               strconv.Itoa(queueSize),
		"WORKER_POOL_SHUTDOWN_TIMEOUT_SECONDS": "30",
		"NOTIFIER_WEBHOOK_URL":                 h.recv.URL(),
		"NOTIFIER_LOG_LEVEL":                   "warn",
	})
	return h
}

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

	m := h.waitHandled(t)
	keys := h.recv.Deliveries()
	accepted := res.status(http.StatusAccepted)
	checkAgreement(t, m, len(keys), accepted)
	const queueFull = servicetest.QueueFullTotal
	refused := res.status(http.StatusServiceUnavailable)
	if got := int(m[queueFull]); got != refused {
		t.Errorf("phase 1: %s = %d, want hey's 503 count %d", queueFull, got, refused)
	}
	checkNoDuplicates(t, "phase 1", keys)
	return phaseOneResult{hey: res, delivered: len(keys)}
}

// waitHandled polls /metrics until every accepted notification has a
// delivery result, and returns the metrics.
func (h *harness) waitHandled(t *testing.T) servicetest.Samples {
	t.Helper()
	return servicetest.WaitMetrics(t, h.proc, h.base, func(m servicetest.Samples) bool {
		handled := m[servicetest.DeliveredTotal] + m[servicetest.FailedTotal] +
			m[servicetest.AbandonedTotal]
		return m[servicetest.AcceptedTotal] == handled
	})
}

// checkAgreement checks that the receiver's unique keys, hey's 202s and the
// accepted and delivered counters are one and the same number.
func checkAgreement(t *testing.T, m servicetest.Samples, unique, accepted int) {
	t.Helper()
	counts := map[string]int{
		"receiver unique keys":     unique,
		servicetest.AcceptedTotal:  int(m[servicetest.AcceptedTotal]),
		servicetest.DeliveredTotal: int(m[servicetest.DeliveredTotal]),
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
	// The drain may take up to its 30 s timeout: the exit gets what is left
	// of the test's time.
	deadline, _ := ctx.Deadline()
	res.exit = h.proc.Wait(t, time.Until(deadline))
	res.drain = h.proc.Exited().Sub(signalled)
	if res.exit != 0 {
		t.Errorf("notifier exit code = %d, want 0; stderr:\n%s", res.exit, h.proc.Stderr())
	}
	checkLoads(t, res)

	keys := h.recv.Deliveries()
	res.delivered = len(keys) - one.delivered
	res.duplicates = duplicates(keys)
	checkNoDuplicates(t, "phase 2", keys)
	servicetest.CheckDeliveredOnce(t, keys, res.probe.accepted, res.probe.refused)
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
	reached := h.recv.Reached(h.recv.Total() + sigtermAfter)
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

	what := fmt.Sprintf("%d phase-two deliveries", sigtermAfter)
	servicetest.WaitClosed(t, h.proc, reached, what)
	signalled.Store(true)
	sent := time.Now()
	res.sigtermAt = sent.Sub(begun)
	h.proc.Signal(t, syscall.SIGTERM)

	wg.Wait()
	if heyErr != nil {
		t.Fatalf("phase 2: %v", heyErr)
	}
	return res, sent
}
