package modules_test

import (
	"context"
	"fmt"
	"time"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/fxpool/fxpool/modules"
	"github.com/fxpool/fxpool/pool"
)

// Example_producer composes the service's modules, without HTTP, with a
// producer of its own that takes the pool. fx builds the
// *notification.Service only when something asks for it, as a producer that
// calls Notify would. One worker runs the jobs in the order they were queued,
// so the output is always the same.
func Example_producer() {
	app := fx.New(
		fx.Supply(zap.NewNop()),
		modules.Metrics,
		modules.WorkerPool,
		modules.Notification,
		fx.Replace(pool.Config{
			MaxWorkers:             1,
			QueueSize:              10,
			ShutdownTimeoutSeconds: 5,
			JobTimeoutSeconds:      5,
		}),
		fx.Invoke(produce),
		fx.NopLogger,
	)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := app.Start(ctx); err != nil {
		fmt.Println("start:", err)
		return
	}
	fmt.Println("started")

	fmt.Println("stopping")
	fmt.Println("stopped:", app.Stop(ctx))
	// Output:
	// started
	// stopping
	// job 0
	// job 1
	// job 2
	// stopped: <nil>
}

// produce queues three jobs once the pool has started. Each job waits until
// produce's stop hook runs, standing in for work slower than the app's
// lifetime, so all three are still pending when Stop begins. Stop hooks run
// in reverse order, so that hook runs before the pool's, whose drain then
// runs the queued jobs before Stop returns.
func produce(lc fx.Lifecycle, p *pool.WorkerPool) {
	release := make(chan struct{})
	lc.Append(fx.StartStopHook(
		func() {
			for i := range 3 {
				p.Submit(pool.Job{Name: "print", Execute: func(context.Context) error {
					<-release
					fmt.Println("job", i)
					return nil
				}})
			}
		},
		func() { close(release) },
	))
}
