package pool

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"testing/synctest"
	"time"
)

// runJob runs fn as a job on a fresh one-worker pool and waits for it.
func runJob(t *testing.T, fn func(ctx context.Context) error) {
	t.Helper()
	p, _ := newTestPool(t, testConfig(1, 1))
	done := make(chan struct{})
	p.Submit(Job{Name: "ctx", Execute: func(ctx context.Context) error {
		defer close(done)
		return fn(ctx)
	}})
	<-done
}

func TestJobContextEndsAtDeadline(t *testing.T) {
	tests := []struct {
		name string
		wait func(ctx context.Context)
	}{
		{"done", func(ctx context.Context) { <-ctx.Done() }},
		{"derived with cancel", func(ctx context.Context) {
			child, cancel := context.WithCancel(ctx)
			defer cancel()
			<-child.Done()
		}},
		{"derived with timeout", func(ctx context.Context) {
			child, cancel := context.WithTimeout(ctx, time.Hour)
			defer cancel()
			<-child.Done()
		}},
		{"after func", func(ctx context.Context) {
			fired := make(chan struct{})
			context.AfterFunc(ctx, func() { close(fired) })
			<-fired
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var waited time.Duration
				var err error
				runJob(t, func(ctx context.Context) error {
					start := time.Now()
					tt.wait(ctx)
					waited, err = time.Since(start), ctx.Err()
					return nil
				})
				if want := 10 * time.Second; waited != want {
					t.Errorf("waited %v for the job context, want %v", waited, want)
				}
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("ctx.Err() at the deadline = %v, want DeadlineExceeded", err)
				}
			})
		})
	}
}

func TestJobContextErrWithoutDone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var before, after error
		runJob(t, func(ctx context.Context) error {
			before = ctx.Err()
			time.Sleep(10 * time.Second)
			after = ctx.Err()
			return nil
		})
		if before != nil || !errors.Is(after, context.DeadlineExceeded) {
			t.Errorf("ctx.Err() before, after the deadline = %v, %v; want nil, DeadlineExceeded",
				before, after)
		}
	})
}

func TestJobContextEndsWhenJobReturns(t *testing.T) {
	t.Parallel()
	kept := make(chan context.Context, 1)
	runJob(t, func(ctx context.Context) error {
		kept <- ctx
		return nil
	})
	ctx := <-kept
	<-ctx.Done()
	if !errors.Is(ctx.Err(), context.Canceled) {
		t.Errorf("ctx.Err() after the job returned = %v, want Canceled", ctx.Err())
	}
	fired := make(chan struct{})
	context.AfterFunc(ctx, func() { close(fired) })
	<-fired
}

// TestKeptContextOutlivesLaterJobs keeps the context of one job while the
// same worker runs more jobs than come in one batch of contexts: the kept
// context must stay ended, with its own deadline, whatever later jobs do.
func TestKeptContextOutlivesLaterJobs(t *testing.T) {
	t.Parallel()
	p, _ := newTestPool(t, testConfig(1, 1))
	kept := make(chan context.Context, 1)
	p.Submit(Job{Name: "keeper", Execute: func(ctx context.Context) error {
		kept <- ctx
		return nil
	}})
	ctx := <-kept
	<-ctx.Done()
	deadline, _ := ctx.Deadline()

	// Later jobs wait on their contexts, so the worker's state for waiting
	// is used again and again.
	ran := make(chan struct{})
	for range 3 * contextBatch {
		for !p.Submit(Job{Name: "later", Execute: func(ctx context.Context) error {
			_ = ctx.Done()
			ran <- struct{}{}
			return nil
		}}) {
			runtime.Gosched()
		}
		<-ran
	}

	if !errors.Is(ctx.Err(), context.Canceled) {
		t.Errorf("kept ctx.Err() after %d later jobs = %v, want Canceled", 3*contextBatch, ctx.Err())
	}
	if got, _ := ctx.Deadline(); !got.Equal(deadline) {
		t.Errorf("kept ctx.Deadline() = %v, want %v as before", got, deadline)
	}
	select {
	case <-ctx.Done():
	default:
		t.Error("kept ctx.Done() open after later jobs, want closed")
	}
}

func TestJobContextCarriesNoSubmitterValues(t *testing.T) {
	t.Parallel()
	type key struct{}
	var got any
	var dl time.Time
	var ok bool
	runJob(t, func(ctx context.Context) error {
		got = ctx.Value(key{})
		dl, ok = ctx.Deadline()
		return nil
	})
	if got != nil || !ok || dl.IsZero() {
		t.Errorf("Value, Deadline = %v, %v %v; want nil and a deadline", got, dl, ok)
	}
}

func TestAfterFuncStop(t *testing.T) {
	t.Parallel()
	runJob(t, func(ctx context.Context) error {
		stop := context.AfterFunc(ctx, func() { t.Error("stopped AfterFunc ran") })
		if !stop() {
			t.Error("stop() of a pending AfterFunc = false, want true")
		}
		if stop() {
			t.Error("second stop() = true, want false")
		}
		return nil
	})
}
