package modules

import (
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/fxpool/fxpool/notification"
	"github.com/fxpool/fxpool/notification/jetstream"
	"github.com/fxpool/fxpool/pool"
)

// Values of NOTIFIER_QUEUE.
const (
	QueueMemory = "memory" // the pool's own queue, in the process's memory
	QueueNATS   = "nats"   // a JetStream stream shared by every replica
)

// JetStream provides a [JetStreamConfig] read from the NOTIFIER_NATS_
// variables and the notification.Notifier that the HTTP API posts to. With
// NOTIFIER_QUEUE=memory, the default, that is the *notification.Service
// itself and nothing else is built. With NOTIFIER_QUEUE=nats it is a
// *jetstream.Queue: notifications are published to JetStream, at
// NOTIFIER_NATS_URL or on a server embedded in the process that stores under
// NOTIFIER_NATS_STORE_DIR, and the service's pool delivers what it fetches.
//
// On start the embedded server starts, then the queue connects and begins
// fetching. On stop the queue stops fetching, waits for the service's drain,
// hands back what it fetched but never started, and disconnects; then the
// embedded server stops.
var JetStream = fx.Module("jetstream",
	fx.Provide(newJetStreamConfig, newNotifier),
	fx.Invoke(func(notification.Notifier) {}),
)

// JetStreamConfig configures [JetStream] when NOTIFIER_QUEUE is nats. It is
// read from variables prefixed NOTIFIER_.
type JetStreamConfig struct {
	// URL lists the NATS servers, comma-separated, such as
	// "nats://a:4222,nats://b:4222". Default empty: a server embedded in
	// the process, listening on a random port of 127.0.0.1. It may hold
	// credentials and is logged without them.
	URL string `env:"NATS_URL"`

	// StoreDir is where the embedded server keeps its stream. It is
	// required when URL is empty; a service restarted on the same directory
	// delivers what it had accepted. Default empty.
	StoreDir string `env:"NATS_STORE_DIR"`

	// Replicas is the number of copies of the stream in a NATS cluster:
	// 1 to 5, default 1.
	Replicas int `env:"NATS_REPLICAS, default=1"`
}

var natsSchemes = []string{"nats", "tls", "ws", "wss"}

// Validate reports a URL that is not a list of server URLs, or a replica
// count out of range. The URL itself is never part of the error, since it
// may hold credentials.
func (c JetStreamConfig) Validate() error {
	if c.URL != "" && !validNATSURLs(c.URL) {
		return &fieldError{"URL", "must be a comma-separated list of nats://host:port URLs"}
	}
	if c.Replicas < 1 || c.Replicas > 5 {
		return &fieldError{"Replicas", fmt.Sprintf("must be between 1 and 5, got %d", c.Replicas)}
	}
	return nil
}

func validNATSURLs(list string) bool {
	for part := range strings.SplitSeq(list, ",") {
		u, err := url.Parse(strings.TrimSpace(part))
		if err != nil || !slices.Contains(natsSchemes, u.Scheme) || u.Host == "" {
			return false
		}
	}
	return true
}

// redactURLs returns the server list without credentials, for logs.
func (c JetStreamConfig) redactURLs() string {
	if c.URL == "" {
		return ""
	}
	parts := strings.Split(c.URL, ",")
	for i, part := range parts {
		parts[i] = notification.RedactURL(strings.TrimSpace(part))
	}
	return strings.Join(parts, ",")
}

// newJetStreamConfig reads the NATS variables, and requires a store
// directory in embedded mode, which is the only rule that spans variables.
func newJetStreamConfig(p envParams, nc NotificationConfig) (JetStreamConfig, error) {
	var c JetStreamConfig
	if nc.Queue != QueueNATS {
		// The NATS variables mean nothing in memory mode, so a stale value
		// left in them does not stop the service.
		return c, nil
	}
	if err := loadEnv("NOTIFIER_", &c, p.lookuper()); err != nil {
		return c, err
	}
	if nc.Queue == QueueNATS && c.URL == "" && c.StoreDir == "" {
		return c, &EnvError{
			"NOTIFIER_NATS_STORE_DIR",
			"must be set when NOTIFIER_QUEUE is nats and NOTIFIER_NATS_URL is empty",
		}
	}
	return c, nil
}

type notifierParams struct {
	fx.In

	Notification NotificationConfig
	Config       JetStreamConfig
	PoolConfig   pool.Config
	Pool         *pool.WorkerPool
	Service      *notification.Service
	Logger       *zap.Logger
	Registerer   prometheus.Registerer
	Lifecycle    fx.Lifecycle
}

func newNotifier(p notifierParams) (notification.Notifier, error) {
	if p.Notification.Queue != QueueNATS {
		return p.Service, nil
	}
	p.Logger.Info("jetstream configuration",
		zap.String("nats_url", p.Config.redactURLs()),
		zap.String("nats_store_dir", p.Config.StoreDir),
		zap.Int("nats_replicas", p.Config.Replicas),
	)

	var srv *jetstream.Server
	if p.Config.URL == "" {
		var err error
		srv, err = jetstream.NewServer(jetstream.ServerConfig{
			StoreDir: p.Config.StoreDir,
			Logger:   p.Logger,
		})
		if err != nil {
			return nil, err
		}
		p.Lifecycle.Append(fx.StartStopHook(srv.Start, srv.Shutdown))
	}

	q, err := jetstream.New(jetstream.Config{
		URL:        p.Config.URL,
		Server:     srv,
		Service:    p.Service,
		Pool:       p.Pool,
		PoolConfig: p.PoolConfig,
		Logger:     p.Logger,
		Registerer: p.Registerer,
		Replicas:   p.Config.Replicas,
	})
	if err != nil {
		return nil, err
	}
	// Appended after the server's hooks: the queue connects once the
	// server runs, and disconnects before it stops.
	p.Lifecycle.Append(fx.StartStopHook(q.Start, q.Stop))
	return q, nil
}
