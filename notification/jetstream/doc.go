// Package jetstream keeps accepted notifications in a NATS JetStream stream
// instead of the pool's memory, so that they survive the replica that took
// them and are shared by every replica of the service. A [Queue] publishes
// what [notification.Service.NotifyWith] accepts, and delivers through the
// service's pool with [notification.Service.Deliver]; the pool stays the
// bound on concurrent deliveries, since each replica fetches no more
// messages than it has free workers. A [Server] runs a single-node JetStream
// server inside the process for a service without a NATS cluster.
//
// # Usage
//
//	q, err := jetstream.New(jetstream.Config{
//		URL:        "nats://127.0.0.1:4222",
//		Service:    svc,
//		Pool:       p,
//		PoolConfig: poolConfig,
//		Logger:     logger,
//		Registerer: registry,
//	})
//	if err != nil {
//		return err
//	}
//	if err := q.Start(ctx); err != nil {
//		return err
//	}
//	defer func() { _ = q.Stop(context.Background()) }()
//	http.Handle("/v1/notifications", notification.NewHandler(q, notification.HandlerConfig{}))
//
// [Queue.Notify] answers only once JetStream has stored the notification,
// under its ID as message ID: a notification published twice within the
// stream's duplicate window is stored once. Delivery is at least once: a
// replica killed in the middle of a delivery leaves the message to another
// replica once AckWait passes, and the receiver may see the same ID twice.
//
// # Shutdown
//
// [Queue.Stop] stops fetching, drains the service's pool, hands every
// message that was fetched but never started back to the stream at once,
// and closes the connection. Messages still running when the drain was cut
// are redelivered to another replica once AckWait passes.
//
// # Metrics
//
// The families are listed on [Queue]. The service's own families count
// intake and deliveries as in memory mode.
package jetstream
