package pool

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

func TestJobErrorIsCounted(t *testing.T) {
	t.Parallel()
	p, _ := newTestPool(t, testConfig(2, 4))

	p.Submit(Job{Name: "fails", Execute: func(context.Context) error { return errors.New("boom") }})
	p.Submit(nop("succeeds"))
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown() = %v, want nil", err)
	}

	c := readCounts(t, p)
	if c.completed != 2 || c.errors != 1 {
		t.Errorf("completed, errors = %v, %v, want 2, 1", c.completed, c.errors)
	}
}

func TestPanicIsRecoveredAndLogged(t *testing.T) {
	t.Parallel()
	core, logs := observer.New(zapcore.DebugLevel)
	p, _ := newTestPool(t, testConfig(1, 4), WithLogger(zap.New(core)))

	p.Submit(Job{Name: "panicky", Execute: func(context.Context) error { panic("kaboom") }})
	ran := make(chan struct{})
	p.Submit(Job{Name: "after", Execute: func(context.Context) error {
		close(ran)
		return nil
	}})
	<-ran
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatalf("Shutdown() = %v, want nil", err)
	}

	entries := logs.FilterMessage("job panicked").AllUntimed()
	if len(entries) != 1 {
		t.Fatalf("job panicked logged %d times, want 1", len(entries))
	}
	e := entries[0]
	fields := e.ContextMap()
	if e.Level != zapcore.ErrorLevel || fields["job"] != "panicky" {
		t.Errorf("panic log = %v %v, want error level with job=panicky", e.Level, fields)
	}
	if stack, _ := fields["stack"].(string); !strings.Contains(stack, "runtime/debug.Stack") {
		t.Errorf("panic log stack = %q, want a goroutine stack", stack)
	}
	if c := readCounts(t, p); c.completed != 2 || c.errors != 1 {
		t.Errorf("completed, errors = %v, %v, want 2, 1", c.completed, c.errors)
	}
}

func TestFailedJobsLeavePoolWhole(t *testing.T) {
	ends := map[string]func(ctx context.Context) error{
		"error":   func(context.Context) error { return errors.New("boom") },
		"panic":   func(context.Context) error { panic("boom") },
		"goexit":  func(context.Context) error { runtime.Goexit(); return nil },
		"timeout": func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() },
		"late":    func(ctx context.Context) error { <-ctx.Done(); return nil },
	}
	for name, end := range ends {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				const workers = 3
				p, _ := newTestPool(t, testConfig(workers, 10))
				for range workers {
					p.Submit(Job{Name: name, Execute: end})
				}
				synctest.Wait()
				time.Sleep(p.jobTimeout + time.Second)
				synctest.Wait()

				if got := p.ActiveWorkers(); got != 0 {
					t.Errorf("ActiveWorkers() at rest = %d, want 0", got)
				}
				c := readCounts(t, p)
				if c.completed != workers || c.errors != workers {
					t.Errorf("completed, errors = %v, %v, want %d, %d",
						c.completed, c.errors, workers, workers)
				}

				b := newBlocker(workers)
				for range workers {
					p.Submit(b.job("after"))
				}
				synctest.Wait()
				if got := p.ActiveWorkers(); got != workers {
					t.Errorf("ActiveWorkers() after %s = %d, want %d", name, got, workers)
				}
				close(b.release)
			})
		})
	}
}
