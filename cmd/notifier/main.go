// Command notifier runs the notification service: an HTTP API that accepts
// notifications and delivers them through a worker pool to a webhook, or to
// the log. It is configured by environment variables; see the README.
package main

import (
	"fmt"
	"os"
	"time"

	"go.uber.org/fx"

	"github.com/fxpool/fxpool/modules"
)

// stopMargin is added to the pool's shutdown timeout to give fx's stop hooks
// room for the cancellation grace, the HTTP server's close and a log sync
// after the drain.
const stopMargin = 10 * time.Second

func main() {
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
