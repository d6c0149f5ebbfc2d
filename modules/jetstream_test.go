package modules_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/fx"
	"go.uber.org/zap/zaptest"

	"github.com/fxpool/fxpool/fxtest"
	"github.com/fxpool/fxpool/modules"
	"github.com/fxpool/fxpool/notification"
	"github.com/fxpool/fxpool/notification/jetstream"
)

// jsApp is a started application in nats mode.
type jsApp struct {
	server   *modules.Server
	gatherer prometheus.Gatherer
	notifier notification.Notifier
}

// startJSApp starts an application with [modules.JetStream] in nats mode
// that delivers with sender. It stops when the test ends.
func startJSApp(t *testing.T, cfg modules.JetStreamConfig, sender notification.Sender) jsApp {
	t.Helper()
	var a jsApp
	app := fxtest.New(t,
		modules.JetStream,
		fxtest.WithSender(sender),
		fx.Replace(modules.NotificationConfig{Queue: modules.QueueNATS}, cfg),
		fx.Populate(&a.server, &a.gatherer, &a.notifier),
	)
	app.RequireStart()
	t.Cleanup(app.RequireStop)
	return a
}

// jsPost posts a notification with the given ID and returns the status.
func jsPost(t *testing.T, a jsApp, id string) int {
	t.Helper()
	url := "http://" + a.server.Addr().String() + "/v1/notifications"
	return post(t, url, fmt.Sprintf(`{"id":%q,"recipient":"r","body":"b"}`, id)).StatusCode
}

func TestMemoryModeNotifierIsTheService(t *testing.T) {
	t.Parallel()
	var svc *notification.Service
	var n notification.Notifier
	app := fxtest.New(t, modules.JetStream, fx.Populate(&svc, &n))
	app.RequireStart()
	defer app.RequireStop()

	if n != notification.Notifier(svc) {
		t.Errorf("Notifier in memory mode = %T, want the *notification.Service", n)
	}
}

func TestJetStreamAppsShareOneStream(t *testing.T) {
	t.Parallel()
	srv, err := jetstream.NewServer(jetstream.ServerConfig{
		StoreDir: t.TempDir(), Logger: zaptest.NewLogger(t),
	})
	if err != nil {
		t.Fatalf("NewServer() error = %v", err)
	}
	if err := srv.Start(t.Context()); err != nil {
		t.Fatalf("Server.Start() error = %v", err)
	}
	t.Cleanup(srv.Shutdown)
	cfg := modules.JetStreamConfig{URL: srv.ClientURL(), Replicas: 1}
	sender := fxtest.NewSender()
	apps := []jsApp{startJSApp(t, cfg, sender), startJSApp(t, cfg, sender)}

	const total = 40
	for i := range total {
		id := fmt.Sprintf("n-%d", i)
		if code := jsPost(t, apps[i%2], id); code != http.StatusAccepted {
			t.Fatalf("POST %s = %d, want 202", id, code)
		}
	}
	sent := sender.WaitSent(t, total)

	seen := map[string]int{}
	for _, n := range sent {
		seen[n.ID]++
	}
	for i := range total {
		if id := fmt.Sprintf("n-%d", i); seen[id] != 1 {
			t.Errorf("deliveries of %s = %d, want 1", id, seen[id])
		}
	}
	if _, ok := apps[0].notifier.(*jetstream.Queue); !ok {
		t.Errorf("Notifier in nats mode = %T, want *jetstream.Queue", apps[0].notifier)
	}
}

func TestJetStreamEmbeddedAppServesMetrics(t *testing.T) {
	t.Parallel()
	sender := fxtest.NewSender()
	a := startJSApp(t, modules.JetStreamConfig{StoreDir: t.TempDir(), Replicas: 1}, sender)

	if code := jsPost(t, a, "n-1"); code != http.StatusAccepted {
		t.Fatalf("POST n-1 = %d, want 202", code)
	}
	sender.WaitSent(t, 1)

	families, err := a.gatherer.Gather()
	if err != nil {
		t.Fatalf("Gather() error = %v", err)
	}
	found := map[string]bool{}
	for _, f := range families {
		found[f.GetName()] = true
	}
	for _, name := range []string{
		"notification_jetstream_publish_duration_seconds",
		"notification_jetstream_consumer_pending_messages",
		"notification_jetstream_naks_total",
		"notification_accepted_total",
	} {
		if !found[name] {
			t.Errorf("%s not gathered", name)
		}
	}
	problems, err := testutil.GatherAndLint(a.gatherer)
	if err != nil {
		t.Fatalf("GatherAndLint() error = %v", err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
}

func TestJetStreamEmbeddedWithoutStoreDirFailsNew(t *testing.T) {
	t.Parallel()
	env := map[string]string{"NOTIFIER_QUEUE": "nats"}
	app := fx.New(
		modules.Notifier,
		fx.Supply(fx.Annotate(modules.MapEnvironment(env), fx.As(new(modules.Environment)))),
		fx.NopLogger,
	)
	if err := app.Err(); err == nil || !strings.Contains(err.Error(), "NOTIFIER_NATS_STORE_DIR") {
		t.Errorf("fx.New(Notifier) with %v: Err() = %v, want it to name NOTIFIER_NATS_STORE_DIR",
			env, err)
	}
}
