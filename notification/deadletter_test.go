package notification

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"testing/iotest"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

// devFull is a device whose writes fail with ENOSPC, as on a full disk.
const devFull = "/dev/full"

func TestDeadLetterFileAppendsLines(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "dead.jsonl")
	for round := range 2 {
		f, err := OpenDeadLetterFile(path)
		if err != nil {
			t.Fatalf("OpenDeadLetterFile() error = %v", err)
		}
		n := Notification{ID: "n", Recipient: "r", Body: "b"}
		if err := f.Write(n, "retries exhausted", round+1); err != nil {
			t.Fatalf("Write() error = %v", err)
		}
		if err := f.Close(); err != nil {
			t.Fatalf("Close() error = %v", err)
		}
		if err := f.Write(n, "late", 0); !errors.Is(err, os.ErrClosed) {
			t.Errorf("Write() after Close = %v, want ErrClosed", err)
		}
	}

	got, skipped := readDeadLetterFile(t, path)
	if len(got) != 2 || got[0].Attempts != 1 || got[1].Attempts != 2 ||
		got[1].Reason != "retries exhausted" || got[1].Time.IsZero() || skipped != 0 {
		t.Errorf("ReadDeadLetters() = %+v, %d skipped, want two appended lines with "+
			"attempts 1 and 2, none skipped", got, skipped)
	}
	if info, err := os.Stat(path); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("Stat(%s) = %v, %v, want mode 0600", path, info.Mode(), err)
	}
}

// readDeadLetterFile reads the dead letters at path.
func readDeadLetterFile(t *testing.T, path string) ([]DeadLetter, int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("Open(%s) error = %v", path, err)
	}
	defer func() { _ = f.Close() }()
	letters, skipped, err := ReadDeadLetters(f)
	if err != nil {
		t.Fatalf("ReadDeadLetters(%s) error = %v", path, err)
	}
	return letters, skipped
}

func TestOpenDeadLetterFileReportsBadPath(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	notDir := filepath.Join(dir, "file")
	if err := os.WriteFile(notDir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		path string
		want error
	}{
		{"missing directory", filepath.Join(dir, "missing", "dead.jsonl"), os.ErrNotExist},
		{"parent is a file", filepath.Join(notDir, "dead.jsonl"), syscall.ENOTDIR},
		{"a directory", dir, syscall.EISDIR},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if _, err := OpenDeadLetterFile(tt.path); !errors.Is(err, tt.want) {
				t.Errorf("OpenDeadLetterFile(%s) = %v, want %v", tt.path, err, tt.want)
			}
		})
	}
}

// line is a dead letter as DeadLetterFile writes it.
func line(id string) string {
	return `{"notification":{"id":"` + id + `","recipient":"r","body":"b"},` +
		`"reason":"deliver: 1 attempts, last status 500","attempts":1,` +
		`"time":"2025-01-02T03:04:05Z"}` + "\n"
}

func TestReadDeadLetters(t *testing.T) {
	t.Parallel()
	torn := line("torn")[:40]
	tests := []struct {
		name        string
		input       string
		wantIDs     []string
		wantSkipped int
	}{
		{"empty", "", nil, 0},
		{"whole lines", line("a") + line("b"), []string{"a", "b"}, 0},
		{
			"last line without newline", line("a") + strings.TrimSuffix(line("b"), "\n"),
			[]string{"a", "b"},
			0,
		},
		{"torn last line", line("a") + torn, []string{"a"}, 1},
		{"only a torn line", torn, nil, 1},
		{"torn line then a restart", line("a") + torn + "\n" + line("b"), []string{"a", "b"}, 1},
		{"blank lines", "\n" + line("a") + "\n  \n", []string{"a"}, 0},
		{"not objects", "null\n[]\n\"x\"\n" + line("a"), []string{"a"}, 3},
		{"crlf", strings.ReplaceAll(line("a"), "\n", "\r\n"), []string{"a"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			letters, skipped, err := ReadDeadLetters(strings.NewReader(tt.input))
			var ids []string
			for _, l := range letters {
				ids = append(ids, l.Notification.ID)
			}
			if err != nil || !slices.Equal(ids, tt.wantIDs) || skipped != tt.wantSkipped {
				t.Errorf("ReadDeadLetters(%q) = %v, %d, %v, want %v, %d, nil",
					tt.input, ids, skipped, err, tt.wantIDs, tt.wantSkipped)
			}
		})
	}
}

func TestReadDeadLettersReturnsReadError(t *testing.T) {
	t.Parallel()
	boom := errors.New("disk gone")
	r := io.MultiReader(strings.NewReader(line("a")), iotest.ErrReader(boom))
	letters, _, err := ReadDeadLetters(r)
	if !errors.Is(err, boom) || len(letters) != 1 {
		t.Errorf("ReadDeadLetters(failing reader) = %d letters, %v, want 1 and %v",
			len(letters), err, boom)
	}
}

// TestOpenDeadLetterFileEndsTornLine checks that a dead letter written after
// a crash mid-write does not join the torn fragment, which would make both
// unreadable.
func TestOpenDeadLetterFileEndsTornLine(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "dead.jsonl")
	if err := os.WriteFile(path, []byte(line("a")+line("torn")[:40]), 0o600); err != nil {
		t.Fatal(err)
	}

	f, err := OpenDeadLetterFile(path)
	if err != nil {
		t.Fatalf("OpenDeadLetterFile() error = %v", err)
	}
	if err := f.Write(Notification{ID: "b", Recipient: "r", Body: "b"}, "failed", 1); err != nil {
		t.Fatalf("Write() error = %v", err)
	}
	if err := f.Close(); err != nil {
		t.Fatalf("Close() error = %v", err)
	}

	letters, skipped := readDeadLetterFile(t, path)
	if len(letters) != 2 || letters[0].Notification.ID != "a" ||
		letters[1].Notification.ID != "b" || skipped != 1 {
		t.Errorf("ReadDeadLetters() = %+v, %d skipped, want a and b, 1 skipped", letters, skipped)
	}
}

func TestDeadLetterFileReportsFullDisk(t *testing.T) {
	t.Parallel()
	f := openDevFull(t)
	err := f.Write(Notification{ID: "n", Recipient: "r", Body: "b"}, "failed", 1)
	if !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("Write() to %s = %v, want ENOSPC", devFull, err)
	}
}

// openDevFull opens /dev/full as a dead-letter file, closed when the test
// ends. It skips the test where /dev/full does not exist.
func openDevFull(t *testing.T) *DeadLetterFile {
	t.Helper()
	if _, err := os.Stat(devFull); err != nil {
		t.Skipf("Stat(%s) error = %v", devFull, err)
	}
	f, err := OpenDeadLetterFile(devFull)
	if err != nil {
		t.Fatalf("OpenDeadLetterFile(%s) error = %v", devFull, err)
	}
	t.Cleanup(func() { _ = f.Close() })
	return f
}

// TestDeadLetterWriteErrorIsLoggedAndCounted checks that a dead letter that
// cannot be written is never silent, and that the service keeps serving.
func TestDeadLetterWriteErrorIsLoggedAndCounted(t *testing.T) {
	t.Parallel()
	core, logs := observer.New(zapcore.WarnLevel)
	sender := &fakeSender{err: &DeliveryError{Attempts: 1, StatusCode: 400, Permanent: true}}
	p := newStartedPool(t, smallPool(1, 4))
	m := newMetrics()
	svc, err := NewService(ServiceConfig{
		Pool: p, Sender: sender, Logger: zap.New(core), Metrics: m, DeadLetters: openDevFull(t),
	})
	if err != nil {
		t.Fatalf("NewService() error = %v", err)
	}

	for _, id := range []string{"n-1", "n-2"} {
		if _, err := svc.Notify(context.Background(),
			Notification{ID: id, Recipient: "r", Body: "b"}); err != nil {
			t.Fatalf("Notify(%s) = %v, want nil", id, err)
		}
	}
	if err := svc.Drain(context.Background()); err != nil {
		t.Fatalf("Drain() = %v, want nil", err)
	}

	if got := testutil.ToFloat64(m.deadLetterErrors); got != 2 {
		t.Errorf("dead_letter_errors_total = %v, want 2", got)
	}
	var ids []string
	for _, e := range logs.FilterMessage("dead letter not written").All() {
		if e.Level != zapcore.ErrorLevel || !strings.Contains(e.ContextMap()["error"].(string),
			"no space left") {
			t.Errorf("log %q at %v with %v, want Error with ENOSPC", e.Message, e.Level,
				e.ContextMap())
		}
		ids = append(ids, e.ContextMap()["id"].(string))
	}
	if slices.Sort(ids); !slices.Equal(ids, []string{"n-1", "n-2"}) {
		t.Errorf("ids logged as not written = %v, want [n-1 n-2]", ids)
	}
}
