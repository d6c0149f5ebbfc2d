package jetstream

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// setup creates or updates the stream and the durable consumer that cfg
// names.
//
// The stream keeps each message until it is acknowledged (work-queue
// retention), on disk, and remembers message IDs for DuplicateWindow. The
// consumer lets the server redeliver without limit: the queue itself ends
// a notification after MaxDeliveries, with a dead letter, whereas a limit
// on the server would strand a message whose last delivery was lost with
// its replica.
func setup(
	ctx context.Context,
	nc *nats.Conn,
	cfg Config,
) (jetstream.JetStream, jetstream.Consumer, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, nil, fmt.Errorf("jetstream: %w", err)
	}

	_, err = js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:       cfg.Stream,
		Subjects:   []string{cfg.Subject},
		Retention:  jetstream.WorkQueuePolicy,
		Storage:    jetstream.FileStorage,
		Replicas:   cfg.Replicas,
		Duplicates: cfg.DuplicateWindow,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("jetstream: stream %s: %w", cfg.Stream, err)
	}

	consumer, err := js.CreateOrUpdateConsumer(ctx, cfg.Stream, jetstream.ConsumerConfig{
		Durable:       cfg.Consumer,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       cfg.AckWait,
		MaxDeliver:    -1,
		FilterSubject: cfg.Subject,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("jetstream: consumer %s: %w", cfg.Consumer, err)
	}
	return js, consumer, nil
}
