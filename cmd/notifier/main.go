// Command notifier runs the notification service: an HTTP API that accepts
// notifications and delivers them through a worker pool to a webhook, or to
// the log. It is configured by environment variables; see the README.
//
// Usage:
//
//	notifier                                  run the service
//	notifier replay [--url URL] [--token T] [--retries N] FILE
//	                                          post a dead-letter file's
//	                                          notifications to a running service
//
// The replay subcommand reads the URL from NOTIFIER_REPLAY_URL and the token
// from NOTIFIER_API_TOKEN when the flags are absent; the URL defaults to
// http://127.0.0.1:8080. A 503 or a missing answer is retried up to N times
// (default 5), after the response's Retry-After. It prints one line per
// notification and a summary, and exits 1 when any notification was refused
// or not sent, 2 for bad arguments.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"go.uber.org/fx"

	"github.com/fxpool/fxpool/modules"
)

const usage = `usage:
  notifier                 run the service, configured by environment variables
  notifier replay [--url URL] [--token T] [--retries N] FILE
                           post a dead-letter file to a running service
`

// stopMargin is added to the pool's shutdown timeout to give fx's stop hooks
// room for the cancellation grace, the HTTP server's close and a log sync
// after the drain.
const stopMargin = 10 * time.Second

func main() {
	switch {
	case len(os.Args) > 1 && os.Args[1] == "replay":
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		cmd := replayCmd{getenv: os.Getenv, stdout: os.Stdout, stderr: os.Stderr}
		code := cmd.run(ctx, os.Args[2:])
		stop()
		os.Exit(code)
	case len(os.Args) > 1:
		// A mistyped subcommand must not start a service on every interface.
		fmt.Fprintf(os.Stderr, "notifier: unknown argument %q\n%s", os.Args[1], usage)
		os.Exit(2)
	}

	cfg, err := modules.PoolConfigFromEnv()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}

	fx.New(
		modules.Notifier,
		// fx stops after 15 seconds by default; the drain may take longer.
		fx.StopTimeout(time.Duration(cfg.ShutdownTimeoutSeconds)*time.Second+stopMargin),
	).Run()
}
