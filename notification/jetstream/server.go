package jetstream

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"go.uber.org/zap"
)

// readyTimeout bounds the wait for an embedded server to accept clients,
// which includes recovering its stored streams; the wait looks for a failure
// every readyPoll.
const (
	readyTimeout = 30 * time.Second
	readyPoll    = 50 * time.Millisecond
)

// ServerConfig configures an embedded [Server].
type ServerConfig struct {
	// StoreDir is the directory that holds the streams; required. A server
	// started again on the same directory finds every message that was
	// stored and not yet acknowledged. Only one server may use it at a time.
	StoreDir string

	// Logger receives the server's warnings and errors, and its notices at
	// Debug. Default zap.NewNop().
	Logger *zap.Logger
}

// Server is a JetStream server running inside the process, listening on a
// random port of 127.0.0.1 only. It is for a single node: messages survive a
// crash of the process, since each is written to the store before the
// publish is acknowledged, but not the loss of the disk. It is safe for
// concurrent use.
type Server struct {
	ns  *server.Server
	log *serverLogger
}

// NewServer returns a server that stores under cfg.StoreDir. It starts
// nothing; see [Server.Start].
func NewServer(cfg ServerConfig) (*Server, error) {
	if cfg.StoreDir == "" {
		return nil, errors.New("jetstream: StoreDir is required")
	}
	opts := &server.Options{
		ServerName: "notifier",
		Host:       "127.0.0.1",
		Port:       server.RANDOM_PORT,
		JetStream:  true,
		StoreDir:   cfg.StoreDir,
		NoSigs:     true, // the process's signals belong to the application
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("jetstream: new server: %w", err)
	}
	log := &serverLogger{log: cmp.Or(cfg.Logger, zap.NewNop()).Named("nats_server")}
	ns.SetLoggerV2(log, false, false, false)
	return &Server{ns: ns, log: log}, nil
}

// Start starts the server and waits until it accepts clients, bounded by
// ctx and 30 seconds. It returns an error when the server cannot start, such
// as for a store directory that cannot be written.
func (s *Server) Start(ctx context.Context) error {
	s.ns.Start()

	deadline := time.Now().Add(readyTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	// The server reports a failure to start only through its log, so the
	// wait looks at both.
	for !s.ns.ReadyForConnections(readyPoll) {
		if err := s.log.fatal(); err != nil || time.Now().After(deadline) {
			s.Shutdown()
			return fmt.Errorf("jetstream: start server: %w",
				cmp.Or(err, errors.New("not ready for connections in time")))
		}
	}
	if !s.ns.JetStreamEnabled() {
		s.Shutdown()
		return fmt.Errorf("jetstream: start server: %w",
			cmp.Or(s.log.fatal(), errors.New("jetstream not enabled")))
	}
	return nil
}

// ClientURL returns the URL that clients connect to, once the server has
// started.
func (s *Server) ClientURL() string {
	return s.ns.ClientURL()
}

// Shutdown stops the server and waits until it has. It is safe to call more
// than once, and before Start.
func (s *Server) Shutdown() {
	s.ns.Shutdown()
	s.ns.WaitForShutdown()
}

// serverLogger sends the server's log to zap. The server formats its own
// messages, so each goes in the text field of one constant message.
type serverLogger struct {
	log *zap.Logger

	mu        sync.Mutex
	lastFatal error // guarded by mu
}

var _ server.Logger = (*serverLogger)(nil)

func (l *serverLogger) Noticef(format string, v ...any) {
	l.log.Debug("nats server", zap.String("text", fmt.Sprintf(format, v...)))
}

func (l *serverLogger) Warnf(format string, v ...any) {
	l.log.Warn("nats server", zap.String("text", fmt.Sprintf(format, v...)))
}

// Fatalf keeps the message for [Server.Start] to return: an embedded server
// must not end the process.
func (l *serverLogger) Fatalf(format string, v ...any) {
	err := fmt.Errorf(format, v...)
	l.log.Error("nats server", zap.String("text", err.Error()))
	l.mu.Lock()
	l.lastFatal = err
	l.mu.Unlock()
}

func (l *serverLogger) Errorf(format string, v ...any) {
	l.log.Error("nats server", zap.String("text", fmt.Sprintf(format, v...)))
}

func (l *serverLogger) Debugf(string, ...any) {}

func (l *serverLogger) Tracef(string, ...any) {}

// fatal returns the last fatal error, or nil.
func (l *serverLogger) fatal() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lastFatal
}
