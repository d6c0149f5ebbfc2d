package jetstream

import (
	"context"
	"fmt"
	"testing"

	"github.com/fxpool/fxpool/notification"
)

func TestFetchesNoMoreThanFreeWorkers(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	release := make(chan struct{})
	sender := newRecorder(func(ctx context.Context, _ notification.Notification, _ int) error {
		<-release
		return nil
	})
	r := startReplica(t, srv.ClientURL(), sender, Config{})
	in := newInspector(t, srv.ClientURL())

	for i := range 10 {
		r.notify(t, fmt.Sprintf("n-%d", i))
	}
	workers := testPool().MaxWorkers
	sender.waitCalls(t, workers)

	// The server counts pending messages a moment after it stores them;
	// a replica that took too many would hold them for good.
	eventually(t, fmt.Sprintf("%d messages taken and %d left", workers, 10-workers), func() bool {
		info := in.consumer(t)
		return info.NumAckPending == workers && info.NumPending == uint64(10-workers)
	})
	close(release)
	sender.waitSent(t, 10)
}

func TestMalformedMessageIsTerminated(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	sender := newRecorder(nil)
	r := startReplica(t, srv.ClientURL(), sender, Config{})
	in := newInspector(t, srv.ClientURL())

	if _, err := in.js.Publish(t.Context(), DefaultSubject, []byte("not json")); err != nil {
		t.Fatalf("Publish(not json) error = %v", err)
	}
	r.notify(t, "n-1")
	sender.waitSent(t, 1)
	eventually(t, "an empty stream", func() bool { return in.messages(t) == 0 })

	if calls, _ := sender.counts(); len(calls) != 1 {
		t.Errorf("sends = %v, want only n-1", calls)
	}
}
