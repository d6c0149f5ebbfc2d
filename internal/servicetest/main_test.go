package servicetest

import (
	"os"
	"testing"
)

func TestMain(m *testing.M) {
	// The process tests start this test binary again as their child.
	if mode := os.Getenv(childEnv); mode != "" {
		os.Exit(runChild(mode))
	}
	Main(m)
}
