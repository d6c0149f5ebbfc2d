package jetstream

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fxpool/fxpool/notification"
)

func TestServerKeepsMessagesAcrossRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	first, err := NewServer(ServerConfig{StoreDir: dir})
	if err != nil {
		t.Fatalf("NewServer() error = %v", err)
	}
	if err := first.Start(t.Context()); err != nil {
		t.Fatalf("Start() error = %v", err)
	}
	held := newRecorder(func(ctx context.Context, _ notification.Notification, _ int) error {
		<-ctx.Done()
		return &notification.DeliveryError{Attempts: 1, Err: ctx.Err()}
	})
	r := startReplica(t, first.ClientURL(), held, Config{})
	r.notify(t, "kept-1")
	r.notify(t, "kept-2")
	held.waitCalls(t, 1)

	// The server goes while a delivery runs, so nothing is acknowledged.
	first.Shutdown()
	_ = r.queue.Stop(context.Background())

	second := startServerIn(t, dir)
	sender := newRecorder(nil)
	startReplica(t, second.ClientURL(), sender, Config{})
	sender.waitSent(t, 2)
	if _, sent := sender.counts(); sent["kept-1"] != 1 || sent["kept-2"] != 1 {
		t.Errorf("sent after restart = %v, want kept-1 and kept-2", sent)
	}
}

func TestServerStartFailsOnUnusableStore(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatalf("WriteFile() error = %v", err)
	}
	srv, err := NewServer(ServerConfig{StoreDir: filepath.Join(file, "store")})
	if err != nil {
		t.Fatalf("NewServer() error = %v", err)
	}
	err = srv.Start(t.Context())
	if err == nil || !strings.HasPrefix(err.Error(), "jetstream: start server:") {
		t.Errorf("Start() with a file as store parent = %v, want a start error", err)
	}
	srv.Shutdown()
}

func TestNewServerRequiresStoreDir(t *testing.T) {
	t.Parallel()
	if _, err := NewServer(ServerConfig{}); err == nil {
		t.Error("NewServer() without StoreDir = nil error, want one")
	}
}
