package notification

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// extSender returns err from every Send, or panics when panics is set.
type extSender struct {
	err    error
	panics bool
}

func (s extSender) Send(context.Context, Notification) error {
	if s.panics {
		panic("sender bug")
	}
	return s.err
}

// extDeadLetters records the IDs it is given.
type extDeadLetters struct {
	mu  sync.Mutex
	ids []string // guarded by mu
}

func (d *extDeadLetters) Write(n Notification, _ string, _ int) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.ids = append(d.ids, n.ID)
	return nil
}

func (d *extDeadLetters) list() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.ids...)
}

// newExtService returns a service on a started pool of one worker.
func newExtService(t *testing.T, s Sender, dl DeadLetterWriter) (*Service, *Metrics) {
	t.Helper()
	return newTestService(t, smallPool(1, 1), s, dl)
}

func TestNotifyWithEnqueuesValidNotification(t *testing.T) {
	t.Parallel()
	svc, m := newExtService(t, extSender{}, nil)
	var got []Notification
	enq := func(_ context.Context, n Notification) error {
		got = append(got, n)
		return nil
	}

	id, err := svc.NotifyWith(context.Background(), Notification{Recipient: "r", Body: "b"}, enq)
	if err != nil || id == "" {
		t.Fatalf("NotifyWith() = %q, %v, want a generated id", id, err)
	}
	if len(got) != 1 || got[0].ID != id {
		t.Errorf("enqueued %+v, want one notification with id %s", got, id)
	}
	if n := testutil.ToFloat64(m.accepted); n != 1 {
		t.Errorf("accepted = %v, want 1", n)
	}
}

func TestNotifyWithCountsDuplicatesApart(t *testing.T) {
	t.Parallel()
	svc, m := newExtService(t, extSender{}, nil)
	enq := func(context.Context, Notification) error { return ErrDuplicate }

	n := Notification{ID: "n-1", Recipient: "r", Body: "b"}
	id, err := svc.NotifyWith(context.Background(), n, enq)
	if err != nil || id != "n-1" {
		t.Fatalf("NotifyWith(duplicate) = %q, %v, want n-1, nil", id, err)
	}
	accepted, duplicates := testutil.ToFloat64(m.accepted), testutil.ToFloat64(m.duplicates)
	if accepted != 0 || duplicates != 1 {
		t.Errorf("accepted, duplicates = %v, %v, want 0, 1", accepted, duplicates)
	}
}

func TestNotifyWithCountsRefusals(t *testing.T) {
	t.Parallel()
	valid := Notification{ID: "n-1", Recipient: "r", Body: "b"}
	unavailable := errors.New("no server")
	tests := []struct {
		name       string
		n          Notification
		enqueueErr error
		wantErr    error
		reason     string // counted rejection; empty: none
	}{
		{"invalid", Notification{Recipient: "r"}, nil, ErrInvalid, rejectInvalid},
		{"full", valid, ErrQueueFull, ErrQueueFull, rejectQueueFull},
		{"stopping", valid, ErrShuttingDown, ErrShuttingDown, rejectShuttingDown},
		{"other error", valid, unavailable, unavailable, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			svc, m := newExtService(t, extSender{}, nil)
			enq := func(context.Context, Notification) error { return tt.enqueueErr }

			_, err := svc.NotifyWith(context.Background(), tt.n, enq)
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("NotifyWith() = %v, want %v", err, tt.wantErr)
			}
			for _, reason := range []string{rejectInvalid, rejectQueueFull, rejectShuttingDown} {
				want := 0.0
				if reason == tt.reason {
					want = 1
				}
				if got := testutil.ToFloat64(m.rejections.WithLabelValues(reason)); got != want {
					t.Errorf("rejected{%s} = %v, want %v", reason, got, want)
				}
			}
			if got := testutil.ToFloat64(m.accepted); got != 0 {
				t.Errorf("accepted = %v, want 0", got)
			}
		})
	}
}

func TestNotifyWithRefusesWhileDraining(t *testing.T) {
	t.Parallel()
	svc, _ := newExtService(t, extSender{}, nil)
	if err := svc.Drain(context.Background()); err != nil {
		t.Fatalf("Drain() = %v, want nil", err)
	}
	called := false
	enq := func(context.Context, Notification) error {
		called = true
		return nil
	}

	_, err := svc.NotifyWith(context.Background(), Notification{Recipient: "r", Body: "b"}, enq)
	if !errors.Is(err, ErrShuttingDown) || called {
		t.Errorf("NotifyWith() after Drain = %v with enqueue called %v, "+
			"want ErrShuttingDown without enqueue", err, called)
	}
}

func TestDeliverClassifiesFailures(t *testing.T) {
	t.Parallel()
	transient := &DeliveryError{Attempts: 2, StatusCode: 503, Err: errors.New("unavailable")}
	permanent := &DeliveryError{Attempts: 1, StatusCode: 400, Permanent: true, Err: errors.New("bad")}
	tests := []struct {
		name      string
		err       error
		last      bool
		wantRetry bool
		result    string // counted delivery result; empty: none
	}{
		{"delivered", nil, false, false, resultDelivered},
		{"transient", transient, false, true, ""},
		{"plain error", errors.New("boom"), false, true, ""},
		{"transient on last try", transient, true, false, resultFailed},
		{"permanent", permanent, false, false, resultFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dl := &extDeadLetters{}
			svc, m := newExtService(t, extSender{err: tt.err}, dl)

			retry, err := svc.Deliver(context.Background(), Notification{ID: "n-1"}, tt.last)
			if retry != tt.wantRetry || !errors.Is(err, tt.err) {
				t.Errorf("Deliver(last=%v) = %v, %v, want %v, %v",
					tt.last, retry, err, tt.wantRetry, tt.err)
			}
			for _, result := range []string{resultDelivered, resultFailed} {
				want := 0.0
				if result == tt.result {
					want = 1
				}
				if got := testutil.ToFloat64(m.deliveries.WithLabelValues(result)); got != want {
					t.Errorf("deliveries{%s} = %v, want %v", result, got, want)
				}
			}
			wantLetters := 0
			if tt.result == resultFailed {
				wantLetters = 1
			}
			if got := dl.list(); len(got) != wantLetters {
				t.Errorf("dead letters = %v, want %d", got, wantLetters)
			}
		})
	}
}

func TestDeliverRecordsPanickingSender(t *testing.T) {
	t.Parallel()
	dl := &extDeadLetters{}
	svc, m := newExtService(t, extSender{panics: true}, dl)

	func() {
		defer func() {
			if r := recover(); r == nil {
				t.Error("Deliver() with a panicking sender returned, want the panic to go on")
			}
		}()
		_, _ = svc.Deliver(context.Background(), Notification{ID: "n-1"}, false)
	}()

	if got := dl.list(); len(got) != 1 || got[0] != "n-1" {
		t.Errorf("dead letters = %v, want [n-1]", got)
	}
	if got := testutil.ToFloat64(m.deliveries.WithLabelValues(resultFailed)); got != 1 {
		t.Errorf("deliveries{failed} = %v, want 1", got)
	}
}
