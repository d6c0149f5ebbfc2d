package notification

import (
	"encoding/json"
	"fmt"
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
func OpenDeadLetterFile(path string) (*DeadLetterFile, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("notification: open dead-letter file: %w", err)
	}
	return &DeadLetterFile{f: f}, nil
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
