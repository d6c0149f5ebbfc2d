// Package servicetest runs the notifier binary in tests: it builds
// cmd/notifier once per test binary, starts it as a process with a chosen
// environment on a free loopback port, waits for it to be ready, reads its
// metrics, and stands in for the webhook it delivers to. Only tests import
// it; every helper takes a [testing.TB] and fails the test when its work
// cannot go on.
//
// # Usage
//
// A package that runs the binary calls [Main] from its TestMain, which
// checks for leaked goroutines and removes the built binaries afterwards:
//
//	func TestMain(m *testing.M) {
//		servicetest.Main(m)
//	}
//
// A test then starts the notifier against a [Receiver]:
//
//	recv := servicetest.NewReceiver(t, 0)
//	addr := servicetest.FreeAddr(t)
//	p := servicetest.Start(t, servicetest.Build(t), map[string]string{
//		"NOTIFIER_HTTP_ADDR":   addr,
//		"NOTIFIER_WEBHOOK_URL": recv.URL(),
//	})
//	servicetest.WaitReady(t, p, "http://"+addr)
//
// Every server it starts listens on 127.0.0.1 only.
package servicetest
