package servicetest

import (
	"maps"
	"testing"
)

// NotifierPackage is the import path of the notifier's main package.
const NotifierPackage = "github.com/fxpool/fxpool/cmd/notifier"

// Build returns the path of the notifier binary, built once per test binary.
// See [BuildPackage].
func Build(tb testing.TB) string {
	tb.Helper()
	return BuildPackage(tb, NotifierPackage)
}

// StartNotifier starts the notifier binary from [Build] with env, listening
// on a free loopback address, and waits until it is ready. It returns the
// process and its base URL, http://127.0.0.1:port. See [Start] and
// [WaitReady].
func StartNotifier(tb testing.TB, env map[string]string) (*Process, string) {
	tb.Helper()
	bin := Build(tb)
	addr := FreeAddr(tb)
	full := map[string]string{"NOTIFIER_HTTP_ADDR": addr}
	maps.Copy(full, env)
	p := Start(tb, bin, full)
	base := "http://" + addr
	WaitReady(tb, p, base)
	return p, base
}
