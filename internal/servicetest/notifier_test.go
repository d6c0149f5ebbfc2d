package servicetest

import (
	"syscall"
	"testing"
)

// TestStartNotifierServesNamedSeries starts the real notifier and checks that
// every series named in this package is in its first scrape, so that a
// renamed metric fails here rather than as a wait that never ends.
func TestStartNotifierServesNamedSeries(t *testing.T) {
	t.Parallel()
	p, base := StartNotifier(t, map[string]string{"NOTIFIER_LOG_LEVEL": "warn"})

	m, err := Metrics(t, base)
	if err != nil {
		t.Fatalf("Metrics(%s) error = %v", base, err)
	}
	var missing []string
	for _, name := range named {
		if _, ok := m[name]; !ok {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		t.Errorf("Metrics(%s) lacks %q", base, missing)
	}

	p.Signal(t, syscall.SIGTERM)
	if code := p.Wait(t, WaitTimeout); code != 0 {
		t.Errorf("notifier exit code = %d, want 0; stderr:\n%s", code, p.Stderr())
	}
}
