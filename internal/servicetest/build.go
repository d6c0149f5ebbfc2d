package servicetest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// buildTimeout bounds each go build. It is generous because it only ends a
// test that has already failed.
const buildTimeout = 3 * time.Minute

var (
	mu     sync.Mutex
	binDir string                                // made by the first build; guarded by mu
	builds = map[string]func() (string, error){} // by import path; guarded by mu
)

// Main runs the tests of m, checks that no goroutine outlives them with
// [goleak.VerifyTestMain], removes the binaries that [Build] and
// [BuildPackage] made, and exits. Call it from TestMain; without it the
// binaries stay in the temporary directory.
func Main(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.Cleanup(func(code int) {
		if err := removeBinDir(); err != nil {
			fmt.Fprintln(os.Stderr, "remove binary directory:", err)
		}
		os.Exit(code)
	}))
}

// BuildPackage builds the main package pkg, given by import path within this
// module's build list, and returns the binary's path. It builds each package
// once per test binary: every test that needs it fails with the same error if
// the build fails. It is safe for concurrent use.
func BuildPackage(tb testing.TB, pkg string) string {
	tb.Helper()
	bin, err := buildOnce(pkg)()
	if err != nil {
		tb.Fatalf("build %s: %v", pkg, err)
	}
	return bin
}

// buildOnce returns the function that builds pkg the first time it is called.
func buildOnce(pkg string) func() (string, error) {
	mu.Lock()
	defer mu.Unlock()
	b, ok := builds[pkg]
	if !ok {
		b = sync.OnceValues(func() (string, error) { return build(pkg) })
		builds[pkg] = b
	}
	return b
}

func build(pkg string) (string, error) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("go command not in PATH: %w", err)
	}
	dir, err := makeBinDir()
	if err != nil {
		return "", err
	}

	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	bin := filepath.Join(dir, binName(pkg))
	out, err := exec.CommandContext(ctx, goTool, "build", "-o", bin, pkg).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %w\n%s", err, out)
	}
	return bin, nil
}

// majorVersion matches the last element of a module path such as
// github.com/nats-io/nats-server/v2.
var majorVersion = regexp.MustCompile(`^v[0-9]+$`)

// binName returns the name go install gives the binary of pkg.
func binName(pkg string) string {
	dir, name := path.Split(pkg)
	if majorVersion.MatchString(name) && dir != "" {
		return path.Base(dir)
	}
	return name
}

// makeBinDir returns the directory for the binaries, making it the first
// time.
func makeBinDir() (string, error) {
	mu.Lock()
	defer mu.Unlock()
	if binDir != "" {
		return binDir, nil
	}
	dir, err := os.MkdirTemp("", "servicetest-")
	if err != nil {
		return "", fmt.Errorf("create binary directory: %w", err)
	}
	binDir = dir
	return dir, nil
}

func removeBinDir() error {
	mu.Lock()
	defer mu.Unlock()
	if binDir == "" {
		return nil
	}
	return os.RemoveAll(binDir)
}
