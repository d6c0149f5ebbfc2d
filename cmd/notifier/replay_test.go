package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/fxpool/fxpool/internal/servicetest"
	"github.com/fxpool/fxpool/notification"
)

// deadLetterLine returns a dead-letter line for id, as the service writes it.
func deadLetterLine(t *testing.T, id string) string {
	t.Helper()
	b, err := json.Marshal(notification.DeadLetter{
		Notification: notification.Notification{ID: id, Recipient: "r", Body: "b"},
		Reason:       "deliver: 1 attempts, last status 500",
		Attempts:     1,
	})
	if err != nil {
		t.Fatalf("json.Marshal() error = %v", err)
	}
	return string(b) + "\n"
}

// writeFile writes content to a new file in a temporary directory.
func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "dead.jsonl")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatalf("WriteFile(%s) error = %v", path, err)
	}
	return path
}

// fakeService answers 202 to every notification except those whose id
// starts with "bad", which get 400, and records the Authorization headers.
type fakeService struct {
	srv   *httptest.Server
	mu    sync.Mutex
	auths []string // guarded by mu
}

func newFakeService(t *testing.T) *fakeService {
	t.Helper()
	f := &fakeService{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var n notification.Notification
		_ = json.NewDecoder(r.Body).Decode(&n)
		f.mu.Lock()
		f.auths = append(f.auths, r.Header.Get("Authorization"))
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if strings.HasPrefix(n.ID, "bad") {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":"recipient is required"}`))
			return
		}
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write([]byte(`{"id":"` + n.ID + `"}`))
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeService) authorizations() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.auths...)
}

// runReplay runs the replay subcommand with args and the environment env.
func runReplay(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := replayCmd{
		getenv: func(k string) string { return env[k] },
		stdout: &stdout,
		stderr: &stderr,
	}
	code := cmd.run(t.Context(), args)
	return code, stdout.String(), stderr.String()
}

func TestReplayCommandReportsEachNotification(t *testing.T) {
	t.Parallel()
	svc := newFakeService(t)
	torn := deadLetterLine(t, "torn")[:30]
	file := writeFile(t, deadLetterLine(t, "a")+deadLetterLine(t, "bad-1")+torn)
	env := map[string]string{"NOTIFIER_REPLAY_URL": svc.srv.URL, "NOTIFIER_API_TOKEN": "env-tok"}

	code, stdout, stderr := runReplay(t, env, file)

	if code != exitRefused {
		t.Errorf("replay %s exit code = %d, want %d", file, code, exitRefused)
	}
	want := "accepted id=a status=202 attempts=1\n" +
		`refused id=bad-1 status=400 attempts=1 reason="recipient is required"` + "\n" +
		"replay: letters=2 accepted=1 refused=1 not_sent=0 refused_by_status=400:1\n"
	if stdout != want {
		t.Errorf("replay %s stdout = %q, want %q", file, stdout, want)
	}
	if !strings.Contains(stderr, "warning: skipped 1 line(s)") {
		t.Errorf("replay %s stderr = %q, want a warning about 1 skipped line", file, stderr)
	}
	if got := svc.authorizations(); len(got) != 2 || got[0] != "Bearer env-tok" {
		t.Errorf("Authorization headers = %q, want Bearer env-tok twice", got)
	}
	if strings.Contains(stdout+stderr, "env-tok") {
		t.Errorf("replay output shows the token: %q %q", stdout, stderr)
	}
}

func TestReplayCommandFlagsOverrideEnvironment(t *testing.T) {
	t.Parallel()
	svc := newFakeService(t)
	file := writeFile(t, deadLetterLine(t, "a")+deadLetterLine(t, "b"))
	env := map[string]string{
		"NOTIFIER_REPLAY_URL": "http://127.0.0.1:1",
		"NOTIFIER_API_TOKEN":  "env-tok",
	}

	code, stdout, stderr := runReplay(t, env, file, "--url", svc.srv.URL, "-token", "flag-tok")

	if code != exitOK {
		t.Errorf("replay exit code = %d, want 0; stdout %q, stderr %q", code, stdout, stderr)
	}
	if got := svc.authorizations(); len(got) != 2 || got[1] != "Bearer flag-tok" {
		t.Errorf("Authorization headers = %q, want Bearer flag-tok twice", got)
	}
	if !strings.HasSuffix(stdout, "replay: letters=2 accepted=2 refused=0 not_sent=0 "+
		"refused_by_status=\n") {
		t.Errorf("replay stdout = %q, want a summary of 2 accepted", stdout)
	}
}

func TestReplayCommandExitCodes(t *testing.T) {
	t.Parallel()
	file := writeFile(t, deadLetterLine(t, "a"))
	missing := filepath.Join(t.TempDir(), "missing.jsonl")
	tests := []struct {
		name string
		args []string
		want int
	}{
		{"no file", nil, exitUsage},
		{"two files", []string{file, file}, exitUsage},
		{"unknown flag", []string{"--bogus", file}, exitUsage},
		{"bad url", []string{"--url", "ftp://x", file}, exitUsage},
		{"missing file", []string{missing}, exitRefused},
		{"negative retries", []string{"--retries", "-1", file}, exitUsage},
		{
			"service down",
			[]string{"--retries", "0", "--url", "http://127.0.0.1:1", file},
			exitRefused,
		},
		{"empty file", []string{writeFile(t, "")}, exitOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got, _, stderr := runReplay(t, nil, tt.args...); got != tt.want {
				t.Errorf("replay %q exit code = %d, want %d; stderr %q", tt.args, got, tt.want,
					stderr)
			}
		})
	}
}

// TestReplayRedeliversDeadLetters runs the real binary twice over: a
// notifier whose receiver refuses everything writes dead letters, then, with
// the receiver accepting again, "notifier replay" posts them back with their
// ids, and each is delivered once.
func TestReplayRedeliversDeadLetters(t *testing.T) {
	t.Parallel()
	const token = "replay-t0ken"
	bin := servicetest.Build(t)
	recv := servicetest.NewReceiver(t, 0)
	recv.SetStatus(http.StatusBadRequest)
	deadLetters := filepath.Join(t.TempDir(), "dead.jsonl")
	p, base := servicetest.StartNotifier(t, map[string]string{
		"NOTIFIER_WEBHOOK_URL":     recv.URL(),
		"NOTIFIER_DEADLETTER_PATH": deadLetters,
		"NOTIFIER_API_TOKEN":       token,
	})
	c := servicetest.NewClient()

	ids := []string{"r-1", "r-2", "r-3"}
	for _, id := range ids {
		if code, body := post(t, c, base, token, id); code != http.StatusAccepted {
			t.Fatalf("POST %s = %d %s, want 202", id, code, body)
		}
	}
	servicetest.WaitMetrics(t, p, base, func(m servicetest.Samples) bool {
		return m[servicetest.FailedTotal] == 3
	})
	if n := countDeadLetters(t, deadLetters); n != 3 {
		t.Fatalf("dead letters after 3 refusals = %d, want 3", n)
	}

	recv.SetStatus(http.StatusOK)
	out, code := runBinaryReplay(t, bin, token, "--url", base, deadLetters)
	if code != 0 || !strings.Contains(out, "replay: letters=3 accepted=3 refused=0") {
		t.Errorf("notifier replay %s = exit %d, output:\n%s\nwant exit 0 and 3 accepted",
			deadLetters, code, out)
	}

	// A letter the service refuses, and a torn last line.
	mixed := writeFile(t, deadLetterLine(t, "r-4")+
		`{"notification":{"id":"bad-1","recipient":"","body":"b"}}`+"\n"+
		deadLetterLine(t, "torn")[:25])
	out, code = runBinaryReplay(t, bin, token, "--url", base, mixed)
	if code != exitRefused || !strings.Contains(out, `refused id=bad-1 status=400`) ||
		!strings.Contains(out, "accepted id=r-4 status=202") ||
		!strings.Contains(out, "skipped 1 line(s)") {
		t.Errorf("notifier replay %s = exit %d, output:\n%s\nwant exit 1, r-4 accepted, "+
			"bad-1 refused with 400 and a warning about 1 skipped line", mixed, code, out)
	}

	m := servicetest.WaitMetrics(t, p, base, handled)
	stopAndWait(t, p)
	got := recv.Deliveries()
	for _, id := range append(ids, "r-4") {
		if got[id] != 1 {
			t.Errorf("deliveries of %s = %d, want 1", id, got[id])
		}
	}
	// Seven accepted: three refused by the receiver, three replayed, and r-4.
	dead := countDeadLetters(t, deadLetters)
	accepted, delivered := m[servicetest.AcceptedTotal], m[servicetest.DeliveredTotal]
	if accepted != 7 || delivered != 4 || dead != 3 || accepted != delivered+float64(dead) {
		t.Errorf("accepted = %v, delivered = %v, dead letters = %d, want 7 = 4 + 3",
			accepted, delivered, dead)
	}
}

// runBinaryReplay runs "bin replay args..." with token in
// NOTIFIER_API_TOKEN and returns its combined output and exit code.
func runBinaryReplay(t *testing.T, bin, token string, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), exitTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"replay"}, args...)...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "NOTIFIER_API_TOKEN=" + token}
	out, err := cmd.CombinedOutput()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		t.Fatalf("run %s replay: %v", bin, err)
	}
	if strings.Contains(string(out), token) {
		t.Errorf("notifier replay output shows the token:\n%s", out)
	}
	return string(out), cmd.ProcessState.ExitCode()
}
