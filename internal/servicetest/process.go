package servicetest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Process is a running binary started by [Start]. Its methods are safe for
// concurrent use, except that the methods taking a [testing.TB] must be
// called from the test's goroutine.
type Process struct {
	cmd    *exec.Cmd
	stderr bytes.Buffer  // written by exec until done is closed
	exited time.Time     // when the exit was seen; set before done is closed
	done   chan struct{} // closed by the goroutine that waits for the exit
}

// Start starts bin with args, and with only PATH, HOME and env in its
// environment. It captures the process's stderr for [Process.Stderr]. A
// process still running when the test ends is killed.
func Start(tb testing.TB, bin string, env map[string]string, args ...string) *Process {
	tb.Helper()
	// Not CommandContext: the test decides when the process ends, and a
	// context that ended early would kill it in the middle of its drain.
	cmd := exec.Command(bin, args...) //nolint:noctx // see above
	p := &Process{cmd: cmd, done: make(chan struct{})}
	p.cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for k, v := range env {
		p.cmd.Env = append(p.cmd.Env, k+"="+v)
	}
	p.cmd.Stderr = &p.stderr
	if err := p.cmd.Start(); err != nil {
		tb.Fatalf("start %s: %v", bin, err)
	}

	// The cleanup below waits for this goroutine, killing the process first
	// if it is still running.
	go func() {
		_ = p.cmd.Wait() // the exit code is read from ProcessState
		p.exited = time.Now()
		close(p.done)
	}()
	tb.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// Pid returns the process id.
func (p *Process) Pid() int {
	return p.cmd.Process.Pid
}

// Done returns a channel that is closed once the process has exited.
func (p *Process) Done() <-chan struct{} {
	return p.done
}

// Signal sends sig to the process, and fails the test if it cannot.
func (p *Process) Signal(tb testing.TB, sig os.Signal) {
	tb.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		tb.Fatalf("Signal(%v) error = %v", sig, err)
	}
}

// Wait waits for the process to exit and returns its exit code, -1 if a
// signal ended it. It fails the test if the process is still running after
// timeout.
func (p *Process) Wait(tb testing.TB, timeout time.Duration) int {
	tb.Helper()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-p.done:
	case <-timer.C:
		tb.Fatalf("%s still running after %v", p.name(), timeout)
	}
	return p.cmd.ProcessState.ExitCode()
}

// Exited returns when the exit was seen; the zero time while the process
// runs.
func (p *Process) Exited() time.Time {
	select {
	case <-p.done:
		return p.exited
	default:
		return time.Time{}
	}
}

// Stderr returns what the process wrote to stderr. While the process runs,
// it returns a note saying so instead.
func (p *Process) Stderr() string {
	select {
	case <-p.done:
		return p.stderr.String()
	default:
		return "(process still running)"
	}
}

// name returns the binary's file name, for messages.
func (p *Process) name() string {
	return filepath.Base(p.cmd.Path)
}
