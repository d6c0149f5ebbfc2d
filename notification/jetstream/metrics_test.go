package jetstream

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/fxpool/fxpool/notification"
)

func TestMetricsPassLint(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	r := startReplica(t, srv.ClientURL(), newRecorder(nil), Config{})
	r.notify(t, "n-1")

	problems, err := testutil.GatherAndLint(r.registry)
	if err != nil {
		t.Fatalf("GatherAndLint() error = %v", err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
}

func TestConsumerGaugesReadTheServer(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	release := make(chan struct{})
	defer close(release)
	sender := newRecorder(func(context.Context, notification.Notification, int) error {
		<-release
		return nil
	})
	r := startReplica(t, srv.ClientURL(), sender, Config{})

	for i := range 5 {
		r.notify(t, fmt.Sprintf("n-%d", i))
	}
	sender.waitCalls(t, testPool().MaxWorkers)

	want := `
# HELP notification_jetstream_consumer_ack_pending_messages Fetched messages not acked yet.
# TYPE notification_jetstream_consumer_ack_pending_messages gauge
notification_jetstream_consumer_ack_pending_messages 2
# HELP notification_jetstream_consumer_pending_messages Messages no replica has fetched.
# TYPE notification_jetstream_consumer_pending_messages gauge
notification_jetstream_consumer_pending_messages 3
# HELP notification_jetstream_consumer_redelivered_messages Redelivered messages not acked.
# TYPE notification_jetstream_consumer_redelivered_messages gauge
notification_jetstream_consumer_redelivered_messages 0
`
	// The server counts pending messages a moment after it stores them.
	var err error
	eventually(t, "the consumer gauges", func() bool {
		err = testutil.GatherAndCompare(r.registry, strings.NewReader(want),
			"notification_jetstream_consumer_ack_pending_messages",
			"notification_jetstream_consumer_pending_messages",
			"notification_jetstream_consumer_redelivered_messages",
		)
		return err == nil
	})
	if n := testutil.CollectAndCount(r.queue.metrics.publish); n != 1 {
		t.Errorf("publish histogram series = %d, want 1", n)
	}
}
