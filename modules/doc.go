// Package modules provides the fx modules of the notification service:
// [Logging], [Metrics], [WorkerPool], [Notification], [JetStream] and [HTTP],
// and [Notifier], which is all of them. Each module reads its configuration
// from the environment through go-envconfig, or from an [Environment] in the
// graph, and fails fx.New with an [*EnvError] naming the variable when a value
// is not allowed.
//
// # Usage
//
// A producer receives the pool or the service by injection:
//
//	fx.New(
//		modules.Notifier,
//		fx.Invoke(func(svc *notification.Service) {
//			// Call svc.Notify from handlers or background jobs.
//		}),
//	).Run()
//
// Tests replace the configuration with fx.Replace, for example
// fx.Replace(pool.Config{MaxWorkers: 2, ...}); package fxtest assembles a
// test application in one call.
//
// # Shutdown
//
// On stop, the HTTP server first drains the service: /readyz and new
// notifications get 503 at once, queued and running deliveries finish within
// WORKER_POOL_SHUTDOWN_TIMEOUT_SECONDS, and only then does the server close.
// If the drain is cut short, the pool's stop hook returns its error and the
// application exits non-zero. Set fx.StopTimeout above the pool's shutdown
// timeout: fx's default of 15 seconds would cut a longer drain.
package modules
