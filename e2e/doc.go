// Package e2e holds the end-to-end load test of cmd/notifier. It builds the
// real binary, points it at a loopback webhook receiver, drives it with the
// hey load generator, and sends it SIGTERM under load. The receiver counts
// deliveries by Idempotency-Key, so the test can check that every
// notification answered 202 was delivered exactly once and that nothing else
// was.
//
// The test is behind the e2e build tag, because it starts processes, puts
// thousands of requests through loopback, and needs hey
// (github.com/rakyll/hey v0.1.5): the HEY variable names the binary, or else
// hey must be in PATH. make e2e installs hey into ./bin and runs
//
//	go test -tags e2e -count=1 -v ./e2e
//
// It prints one summary line that starts with "e2e:".
package e2e
