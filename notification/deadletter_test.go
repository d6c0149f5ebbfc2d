package notification

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

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

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var got []DeadLetter
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		var d DeadLetter
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		got = append(got, d)
	}
	if len(got) != 2 || got[0].Attempts != 1 || got[1].Attempts != 2 ||
		got[1].Reason != "retries exhausted" || got[1].Time.IsZero() {
		t.Errorf("dead letters = %+v, want two appended lines with attempts 1 and 2", got)
	}
	if info, err := os.Stat(path); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("Stat(%s) = %v, %v, want mode 0600", path, info.Mode(), err)
	}
}

func TestOpenDeadLetterFileReportsBadPath(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "missing", "dead.jsonl")
	if _, err := OpenDeadLetterFile(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("OpenDeadLetterFile(%s) = %v, want ErrNotExist", path, err)
	}
}
