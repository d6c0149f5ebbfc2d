package jetstream

import (
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

func TestSetupCreatesWorkQueueAndSharedConsumer(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	startReplica(t, srv.ClientURL(), newRecorder(nil), Config{DuplicateWindow: time.Minute})
	in := newInspector(t, srv.ClientURL())

	s, err := in.js.Stream(t.Context(), DefaultStream)
	if err != nil {
		t.Fatalf("Stream(%s) error = %v", DefaultStream, err)
	}
	sc := s.CachedInfo().Config
	if sc.Retention != jetstream.WorkQueuePolicy || sc.Storage != jetstream.FileStorage ||
		sc.Duplicates != time.Minute {
		t.Errorf("stream retention %v, storage %v, duplicates %v, want %v, %v, 1m",
			sc.Retention, sc.Storage, sc.Duplicates, jetstream.WorkQueuePolicy, jetstream.FileStorage)
	}

	cc := in.consumer(t).Config
	wantAckWait := time.Duration(testPool().JobTimeoutSeconds)*time.Second + AckMargin
	if cc.Durable != DefaultConsumer || cc.AckWait != wantAckWait || cc.MaxDeliver != -1 {
		t.Errorf("consumer %q with AckWait %v, MaxDeliver %d, want %q, %v, -1",
			cc.Durable, cc.AckWait, cc.MaxDeliver, DefaultConsumer, wantAckWait)
	}
}
