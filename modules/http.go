package modules

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/fxpool/fxpool/notification"
)

// HTTP provides an [HTTPConfig] read from the NOTIFIER_ variables and the
// service's *Server, which serves the notification API, /healthz, /readyz and
// /metrics. The server listens on start. On stop it first drains the service,
// answering 503 to new notifications and to /readyz meanwhile, then closes.
var HTTP = fx.Module("http",
	fx.Provide(newHTTPConfig, newServer),
	fx.Invoke(func(*Server) {}),
)

// Limits of the HTTP server. Requests are small JSON documents, so the
// timeouts are short; IdleTimeout lets clients keep connections between
// bursts. A header much larger than maxHeaderBytes gets 431 (net/http allows
// 4 KiB of slack above it). readHeaderTimeout is
// the default of [HTTPConfig.ReadHeaderTimeout].
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 10 * time.Second
	writeTimeout      = 15 * time.Second
	idleTimeout       = 60 * time.Second
	maxHeaderBytes    = 16 << 10
)

func newHTTPConfig(p envParams) (HTTPConfig, error) {
	var c HTTPConfig
	return c, loadEnv("NOTIFIER_", &c, p.lookuper())
}

// Server is the service's HTTP server. It is safe for concurrent use.
type Server struct {
	srv    *http.Server
	svc    *notification.Service
	log    *zap.Logger
	addr   string
	served sync.WaitGroup

	mu sync.Mutex
	ln net.Listener // guarded by mu; set on start
}

type serverParams struct {
	fx.In

	Config    HTTPConfig
	Service   *notification.Service
	Gatherer  prometheus.Gatherer
	Logger    *zap.Logger
	Lifecycle fx.Lifecycle

	// Notifier takes the API's notifications; [JetStream] provides it.
	// Without it the Service does.
	Notifier notification.Notifier `optional:"true"`
}

func newServer(p serverParams) *Server {
	log := p.Logger.Named("http")
	headerTimeout := cmp.Or(p.Config.ReadHeaderTimeout, readHeaderTimeout)
	log.Info("http configuration",
		zap.String("addr", p.Config.Addr),
		secret("api_token", p.Config.APIToken),
		zap.Duration("read_header_timeout", headerTimeout),
	)

	var notifier notification.Notifier = p.Service
	if p.Notifier != nil {
		notifier = p.Notifier
	}
	mux := http.NewServeMux()
	mux.Handle("/v1/notifications", notification.NewHandler(notifier, notification.HandlerConfig{
		Token:       p.Config.APIToken,
		Logger:      log,
		OnMalformed: p.Service.RejectMalformed,
	}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeStatus(w, http.StatusOK, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !p.Service.Ready() {
			writeStatus(w, http.StatusServiceUnavailable, "draining")
			return
		}
		writeStatus(w, http.StatusOK, "ready")
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(p.Gatherer, promhttp.HandlerOpts{
		ErrorLog: zap.NewStdLog(log),
	}))

	s := &Server{
		srv: &http.Server{
			Handler:           mux,
			ReadHeaderTimeout: headerTimeout,
			ReadTimeout:       readTimeout,
			WriteTimeout:      writeTimeout,
			IdleTimeout:       idleTimeout,
			MaxHeaderBytes:    maxHeaderBytes,
			ErrorLog:          zap.NewStdLog(log),
		},
		svc:  p.Service,
		log:  log,
		addr: p.Config.Addr,
	}
	p.Lifecycle.Append(fx.StartStopHook(s.start, s.stop))
	return s
}

// Addr returns the address the server listens on, or nil before start. With
// a port of 0 in NOTIFIER_HTTP_ADDR it tells which port was chosen.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// start binds the address, so that a port in use fails the application's
// start, and serves on a goroutine that stop waits for.
func (s *Server) start(ctx context.Context) error {
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", s.addr)
	if err != nil {
		return fmt.Errorf("listen on NOTIFIER_HTTP_ADDR: %w", err)
	}
	s.mu.Lock()
	s.ln = ln
	s.mu.Unlock()

	s.served.Go(func() {
		if err := s.srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("http server stopped", zap.Error(err))
		}
	})
	s.log.Info("http server listening", zap.Stringer("addr", ln.Addr()))
	return nil
}

// stop drains the service while the server still answers, so that clients
// and load balancers see 503s rather than refused connections, then shuts the
// server down.
func (s *Server) stop(ctx context.Context) error {
	// The drain's error is the pool's to report, through its own stop hook.
	_ = s.svc.Drain(ctx)

	err := s.srv.Shutdown(ctx)
	if err != nil {
		// Out of time: drop the connections that are still open.
		_ = s.srv.Close()
	}
	s.served.Wait()
	return err
}

func writeStatus(w http.ResponseWriter, code int, status string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write([]byte(`{"status":"` + status + `"}` + "\n"))
}
