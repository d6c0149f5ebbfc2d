package jetstream_test

import (
	"context"
	"fmt"
	"os"

	"github.com/fxpool/fxpool/notification"
	"github.com/fxpool/fxpool/notification/jetstream"
	"github.com/fxpool/fxpool/pool"
)

// senderFunc is a notification.Sender made of a function.
type senderFunc func(ctx context.Context, n notification.Notification) error

func (f senderFunc) Send(ctx context.Context, n notification.Notification) error {
	return f(ctx, n)
}

func ExampleNew() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "jetstream-example-")
	if err != nil {
		panic(err)
	}
	defer func() { _ = os.RemoveAll(dir) }()

	// A single-node server inside the process; a service with a NATS
	// cluster sets Config.URL instead.
	srv, err := jetstream.NewServer(jetstream.ServerConfig{StoreDir: dir})
	if err != nil {
		panic(err)
	}
	if err := srv.Start(ctx); err != nil {
		panic(err)
	}
	defer srv.Shutdown()

	cfg := pool.DefaultConfig()
	cfg.MaxWorkers = 2
	p, err := pool.New(cfg)
	if err != nil {
		panic(err)
	}
	p.Start()
	delivered := make(chan string, 1)
	svc, err := notification.NewService(notification.ServiceConfig{
		Pool: p,
		Sender: senderFunc(func(_ context.Context, n notification.Notification) error {
			delivered <- n.ID
			return nil
		}),
	})
	if err != nil {
		panic(err)
	}

	q, err := jetstream.New(jetstream.Config{Server: srv, Service: svc, Pool: p, PoolConfig: cfg})
	if err != nil {
		panic(err)
	}
	if err := q.Start(ctx); err != nil {
		panic(err)
	}
	defer func() { _ = q.Stop(ctx) }()

	id, err := q.Notify(ctx, notification.Notification{
		ID:        "disk-1",
		Recipient: "ops@example.com",
		Body:      "disk almost full",
	})
	if err != nil {
		panic(err)
	}
	fmt.Println("stored", id)
	fmt.Println("delivered", <-delivered)
	// Output:
	// stored disk-1
	// delivered disk-1
}
