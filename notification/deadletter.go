package notification

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// DeadLetter is one line of a dead-letter file.
type DeadLetter struct {
	Notification Notification `json:"notification"`
	Reason       string       `json:"reason"`
	Attempts     int          `json:"attempts"`
	Time         time.Time    `json:"time"`
}

// DeadLetterFile appends dead letters to a file as JSON lines. Each write is
// synced to disk before Write returns, so a crash loses no finished line and
// leaves at most one torn last line. It is safe for concurrent use.
type DeadLetterFile struct {
	mu sync.Mutex
	f  *os.File // guarded by mu; nil once closed
}

var _ DeadLetterWriter = (*DeadLetterFile)(nil)

// OpenDeadLetterFile opens path for appending, creating it with mode 0600.
// When the file ends in a torn line, left by a crash in the middle of a
// write, it first ends that line, so that the next dead letter starts a line
// of its own rather than joining the fragment; [ReadDeadLetters] skips the
// fragment.
func OpenDeadLetterFile(path string) (*DeadLetterFile, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("notification: open dead-letter file: %w", err)
	}
	if err := endTornLine(f); err != nil {
		_ = f.Close() // the repair's error says what went wrong
		return nil, fmt.Errorf("notification: open dead-letter file: %w", err)
	}
	return &DeadLetterFile{f: f}, nil
}

// endTornLine appends a newline to f, a file opened for appending, when f is
// a regular file whose last byte is not one. Other files, such as devices,
// are left alone.
func endTornLine(f *os.File) error {
	info, err := f.Stat()
	if err != nil || !info.Mode().IsRegular() || info.Size() == 0 {
		return err
	}

	last := make([]byte, 1)
	if _, err := f.ReadAt(last, info.Size()-1); err != nil {
		return err
	}
	if last[0] == '\n' {
		return nil
	}
	if _, err := f.Write([]byte{'\n'}); err != nil {
		return err
	}
	return f.Sync()
}

// Write appends one dead letter and syncs the file.
func (d *DeadLetterFile) Write(n Notification, reason string, attempts int) error {
	line, err := json.Marshal(DeadLetter{n, reason, attempts, time.Now().UTC()})
	if err != nil {
		return fmt.Errorf("notification: encode dead letter: %w", err)
	}
	line = append(line, '\n')

	d.mu.Lock()
	defer d.mu.Unlock()
	if d.f == nil {
		return fmt.Errorf("notification: write dead letter: %w", os.ErrClosed)
	}
	if _, err := d.f.Write(line); err != nil {
		return fmt.Errorf("notification: write dead letter: %w", err)
	}
	if err := d.f.Sync(); err != nil {
		return fmt.Errorf("notification: sync dead letter: %w", err)
	}
	return nil
}

// Close closes the file. Later writes fail.
func (d *DeadLetterFile) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.f == nil {
		return nil
	}
	err := d.f.Close()
	d.f = nil
	return err
}

// ReadDeadLetters reads the dead letters of a file written by
// [DeadLetterFile], in order. A line that is not a JSON object, such as the
// fragment a crash leaves in the middle of a write, is skipped and counted in
// skipped; callers should warn about it. A fragment is usually the last line,
// but after a restart it can be followed by further lines. Blank lines are
// ignored. err wraps the first read error; the letters read before it are
// returned with it.
func ReadDeadLetters(r io.Reader) (letters []DeadLetter, skipped int, err error) {
	br := bufio.NewReader(r)
	for {
		line, readErr := br.ReadBytes('\n')
		if d, ok, blank := parseDeadLetter(line); ok {
			letters = append(letters, d)
		} else if !blank {
			skipped++
		}

		switch {
		case errors.Is(readErr, io.EOF):
			return letters, skipped, nil
		case readErr != nil:
			return letters, skipped, fmt.Errorf("notification: read dead letters: %w", readErr)
		}
	}
}

// parseDeadLetter decodes one line. It reports whether the line is a dead
// letter, and whether it is blank.
func parseDeadLetter(line []byte) (d DeadLetter, ok, blank bool) {
	line = bytes.TrimSpace(line)
	if len(line) == 0 {
		return DeadLetter{}, false, true
	}
	// json.Unmarshal accepts null for a struct; a dead letter is an object.
	if line[0] != '{' || json.Unmarshal(line, &d) != nil {
		return DeadLetter{}, false, false
	}
	return d, true, false
}
