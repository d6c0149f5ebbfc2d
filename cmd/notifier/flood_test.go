package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/fxpool/fxpool/internal/servicetest"
)

// Shape of the flood. Four workers behind a queue of 100, each delivery held
// floodDelay by the receiver, cannot keep up with 32 clients, so the queue
// overflows and some requests get 503.
const (
	floodWorkers = 4
	floodQueue   = 100
	floodDelay   = time.Millisecond
	floodClients = 32
	floodSent    = 8000
	warmUp       = 8

	// soakMost bounds a soak in requests as well as in time.
	soakMost = 5_000_000

	// maxPeakRSS is the most resident memory the notifier may reach.
	maxPeakRSS = 200 << 20

	// goroutineSlack is how many goroutines above the idle count the
	// notifier may keep after a flood: a scrape's own connection, and
	// timers the runtime has not yet reaped.
	goroutineSlack = 5
)

// floodTarget is a notifier ready for a flood and the receiver it delivers
// to.
type floodTarget struct {
	p           *servicetest.Process
	base        string // http://127.0.0.1:port
	recv        *servicetest.Receiver
	deadLetters string // the notifier's dead-letter file
}

// startFlood starts a notifier for a flood, against a receiver that answers
// after delay, and waits until it is ready.
func startFlood(t *testing.T, delay time.Duration) *floodTarget {
	t.Helper()
	ft := &floodTarget{
		recv:        servicetest.NewReceiver(t, delay),
		deadLetters: filepath.Join(t.TempDir(), "dead.jsonl"),
	}
	ft.p, ft.base = servicetest.StartNotifier(t, map[string]string{
		"NOTIFIER_WEBHOOK_URL":                 ft.recv.URL(),
		"NOTIFIER_DEADLETTER_PATH":             ft.deadLetters,
		"NOTIFIER_LOG_LEVEL":                   "warn",
		"WORKER_POOL_MAX_WORKERS":              strconv.Itoa(floodWorkers),
		"WORKER_POOL_QUEUE_SIZE":               strconv.Itoa(floodQueue),
		"WORKER_POOL_SHUTDOWN_TIMEOUT_SECONDS": "30",
	})
	return ft
}

// soakDuration returns the duration set by SOAK_DURATION, which turns the
// flood into a soak, and whether it is set.
func soakDuration(t *testing.T) (time.Duration, bool) {
	t.Helper()
	v := os.Getenv("SOAK_DURATION")
	if v == "" {
		return 0, false
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		t.Fatalf("SOAK_DURATION=%q: want a positive duration such as 60s", v)
	}
	return d, true
}

// TestFloodDeliversEveryAcceptedOnce floods the notifier with floodSent
// requests from floodClients clients, or for SOAK_DURATION when set. Every
// answer must be a 202 or a 503, every 202 must be delivered exactly once
// and nothing else delivered; afterwards the process must be back to its
// idle goroutine count, and its peak RSS must stay under 200 MiB.
func TestFloodDeliversEveryAcceptedOnce(t *testing.T) {
	t.Parallel()
	soak, soaking := soakDuration(t)
	ft := startFlood(t, floodDelay)

	idle := warmAndSettle(t, ft)
	f := &flood{url: ft.base + "/v1/notifications", prefix: "flood"}
	begun := time.Now()
	if soaking {
		deadline := begun.Add(soak)
		f.run(floodClients, soakMost, func() bool { return time.Now().Before(deadline) })
	} else {
		f.run(floodClients, floodSent, func() bool { return true })
	}
	took := time.Since(begun)

	m := servicetest.WaitMetrics(t, ft.p, ft.base, handled)
	f.check(t, false)
	checkFloodDelivered(t, ft, f, m)
	if n := countDeadLetters(t, ft.deadLetters); n != 0 {
		t.Errorf("dead letters = %d, want 0", n)
	}
	after := settleGoroutines(t, ft, idle)
	rss := peakRSS(t, ft.p.Pid())
	if rss >= maxPeakRSS {
		t.Errorf("notifier peak RSS (VmHWM) = %d MiB, want < %d MiB", rss>>20, maxPeakRSS>>20)
	}

	stopAndWait(t, ft.p)
	t.Logf("flood: sent=%d in %v accepted=%d refused503=%d delivered=%d "+
		"goroutines idle=%v after=%v peak_rss=%.1fMiB",
		f.sent(), took.Round(time.Millisecond), len(f.accepted), len(f.refused),
		int(m[servicetest.DeliveredTotal])-warmUp, idle, after, float64(rss)/(1<<20))
}

// warmAndSettle delivers warmUp notifications, so that the connections and
// goroutines that every delivery needs exist, closes the idle connections on
// both sides, and returns the goroutine count once it holds still.
func warmAndSettle(t *testing.T, ft *floodTarget) float64 {
	t.Helper()
	c := servicetest.NewClient()
	for i := range warmUp {
		if code, body := post(t, c, ft.base, "", fmt.Sprintf("warm-%d", i)); code != 202 {
			t.Fatalf("POST warm-%d = %d %s, want 202", i, code, body)
		}
	}
	servicetest.WaitClosed(t, ft.p, ft.recv.Reached(warmUp), "the warm-up deliveries")
	servicetest.WaitMetrics(t, ft.p, ft.base, handled)
	ft.recv.CloseClientConnections()

	// The count holds still once the closed connections' goroutines have
	// exited: three equal scrapes in a row.
	var last []float64
	m := servicetest.WaitMetrics(t, ft.p, ft.base, func(m servicetest.Samples) bool {
		last = append(last, m[servicetest.Goroutines])
		n := len(last)
		return n >= 3 && last[n-1] == last[n-2] && last[n-2] == last[n-3]
	})
	return m[servicetest.Goroutines]
}

// settleGoroutines closes the idle connections on both sides and waits until
// the notifier's goroutine count is back within goroutineSlack of idle. It
// returns the count.
func settleGoroutines(t *testing.T, ft *floodTarget, idle float64) float64 {
	t.Helper()
	ft.recv.CloseClientConnections()
	m := servicetest.WaitMetrics(t, ft.p, ft.base, func(m servicetest.Samples) bool {
		return m[servicetest.Goroutines] <= idle+goroutineSlack
	})
	return m[servicetest.Goroutines]
}

// checkFloodDelivered checks that the receiver saw every 202 of the flood
// exactly once and no 503, and that the metrics agree, counting the warmUp
// notifications delivered before the flood.
func checkFloodDelivered(t *testing.T, ft *floodTarget, f *flood, m servicetest.Samples) {
	t.Helper()
	const accepted, delivered = servicetest.AcceptedTotal, servicetest.DeliveredTotal
	keys := ft.recv.Deliveries()
	servicetest.CheckDeliveredOnce(t, keys, f.accepted, f.refused)
	want := float64(warmUp + len(f.accepted))
	if float64(len(keys)) != want || m[accepted] != want || m[delivered] != want {
		t.Errorf("receiver keys = %d, %s = %v, %s = %v, want all %v (the 202s)",
			len(keys), accepted, m[accepted], delivered, m[delivered], want)
	}
	if got := int(m[servicetest.QueueFullTotal]); got != len(f.refused) {
		t.Errorf("%s = %d, want the 503 count %d", servicetest.QueueFullTotal, got, len(f.refused))
	}
}

// flood posts notifications from many clients at once and records every
// answer. Its lists are written under mu while run runs, and read without it
// after run returns.
type flood struct {
	url    string // the notifications endpoint
	prefix string // of each notification's id

	// signalled is set just before SIGTERM is sent; connection errors are
	// expected only after it.
	signalled atomic.Bool
	next      atomic.Int64 // number of the last id handed out
	after     atomic.Int64 // answers and errors seen after signalled was set

	mu         sync.Mutex
	accepted   []string // ids answered 202; guarded by mu
	refused    []string // ids answered 503; guarded by mu
	connErrors int      // requests without an answer; guarded by mu
	problems   []string // guarded by mu
}

// run posts up to most notifications from clients goroutines, each going on
// while more reports true, and returns when all of them stop.
func (f *flood) run(clients, most int, more func() bool) {
	tr := &http.Transport{MaxIdleConnsPerHost: clients}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: 10 * time.Second}

	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for more() {
				i := f.next.Add(1)
				if i > int64(most) {
					return
				}
				f.send(c, fmt.Sprintf("%s-%d", f.prefix, i))
			}
		})
	}
	wg.Wait()
}

// sent returns the number of requests made.
func (f *flood) sent() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.accepted) + len(f.refused) + f.connErrors + len(f.problems)
}

// floodAnswer holds the fields of both a 202 and an error response.
type floodAnswer struct {
	ID    string `json:"id"`
	Error string `json:"error"`
}

// send posts one notification and records the answer.
func (f *flood) send(c *http.Client, id string) {
	before := f.signalled.Load()
	body := fmt.Sprintf(`{"id":%q,"recipient":"flood","body":"x"}`, id)
	// The client's timeout bounds each request.
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, f.url,
		strings.NewReader(body))
	if err != nil {
		f.problem(fmt.Sprintf("%s: %v", id, err))
		return
	}
	req.Header.Set("Content-Type", "application/json")

	resp, err := c.Do(req)
	if f.signalled.Load() {
		f.after.Add(1)
	}
	if err != nil {
		f.mu.Lock()
		f.connErrors++
		f.mu.Unlock()
		if !f.signalled.Load() {
			f.problem(fmt.Sprintf("%s: %v before SIGTERM", id, err))
		}
		return
	}
	defer func() { _ = resp.Body.Close() }()
	var a floodAnswer
	decodeErr := json.NewDecoder(resp.Body).Decode(&a)

	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case resp.StatusCode == http.StatusAccepted && a.ID == id:
		f.accepted = append(f.accepted, id)
	case resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") != "":
		f.refused = append(f.refused, id)
	default:
		f.problems = append(f.problems, fmt.Sprintf("%s: status %d, body %+v, %v (sent %s)",
			id, resp.StatusCode, a, decodeErr, map[bool]string{
				true:  "after SIGTERM",
				false: "before SIGTERM",
			}[before]))
	}
}

func (f *flood) problem(p string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.problems = append(f.problems, p)
}

// check reports every answer that was not a 202 with its id or a 503 with
// Retry-After, and every connection error before SIGTERM. With wantAfter, it
// also wants requests to have been sent after SIGTERM.
func (f *flood) check(t *testing.T, wantAfter bool) {
	t.Helper()
	for i, p := range f.problems {
		if i == 20 {
			t.Errorf("... and %d more problems", len(f.problems)-i)
			break
		}
		t.Errorf("flood: %s", p)
	}
	if wantAfter && f.after.Load() == 0 {
		t.Error("flood requests after SIGTERM = 0, want some: the flood ended too early")
	}
}

// TestSIGTERMDuringFlood sends SIGTERM while 16 clients flood the notifier,
// and keeps flooding until the process has exited. The notifier must exit 0
// having delivered every 202 exactly once; requests after SIGTERM may get 503
// or, once the server has closed, a connection error, and nothing else.
func TestSIGTERMDuringFlood(t *testing.T) {
	t.Parallel()
	const (
		clients      = 16
		most         = 50000 // bounds the flood if the process never exits
		sigtermAfter = 200   // deliveries before SIGTERM
	)
	ft := startFlood(t, 2*time.Millisecond)
	p := ft.p

	f := &flood{url: ft.base + "/v1/notifications", prefix: "term"}
	reached := ft.recv.Reached(sigtermAfter)
	var wg sync.WaitGroup
	wg.Go(func() {
		f.run(clients, most, func() bool {
			select {
			case <-p.Done():
				return false
			default:
				return true
			}
		})
	})
	servicetest.WaitClosed(t, p, reached, fmt.Sprintf("%d deliveries", sigtermAfter))
	f.signalled.Store(true)
	p.Signal(t, syscall.SIGTERM)
	wg.Wait()

	if code := p.Wait(t, exitTimeout); code != 0 {
		t.Errorf("notifier exit code = %d, want 0; stderr:\n%s", code, p.Stderr())
	}
	f.check(t, true)
	if f.connErrors == 0 {
		t.Error("flood connection errors = 0, want some: the flood ended before the server closed")
	}
	keys := ft.recv.Deliveries()
	checkOnce(t, f, keys)
	if n := countDeadLetters(t, ft.deadLetters); n != 0 {
		t.Errorf("dead letters = %d, want 0: every 202 was delivered", n)
	}
	t.Logf("sigterm flood: sent=%d accepted=%d refused503=%d connection_errors=%d "+
		"answers_after_sigterm=%d delivered=%d",
		f.sent(), len(f.accepted), len(f.refused), f.connErrors, f.after.Load(), len(keys))
}

// checkOnce checks that every 202 was delivered exactly once, that no 503
// was delivered, and that nothing else was.
func checkOnce(t *testing.T, f *flood, keys map[string]int) {
	t.Helper()
	servicetest.CheckDeliveredOnce(t, keys, f.accepted, f.refused)
	if len(keys) != len(f.accepted) {
		t.Errorf("receiver keys = %d, want the 202 count %d", len(keys), len(f.accepted))
	}
}
