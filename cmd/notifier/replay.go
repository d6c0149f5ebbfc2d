package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/fxpool/fxpool/notification"
)

// Exit codes of the replay subcommand.
const (
	exitOK      = 0 // every notification was accepted
	exitRefused = 1 // some were refused or not sent, or the file was unreadable
	exitUsage   = 2 // bad arguments
)

// defaultReplayURL is where replay posts without --url or
// NOTIFIER_REPLAY_URL.
const defaultReplayURL = "http://127.0.0.1:8080"

// replayArgs is the parsed command line of the replay subcommand.
type replayArgs struct {
	url     string
	token   string
	retries int
	file    string
}

// replayCmd is the replay subcommand with the environment it reads and
// where it writes.
type replayCmd struct {
	getenv func(string) string
	stdout io.Writer // one line per notification, then the summary
	stderr io.Writer // usage, warnings and errors
}

// run runs "notifier replay args...": it posts the dead letters of the file
// to a running service and returns the exit code.
func (c replayCmd) run(ctx context.Context, args []string) int {
	stdout, stderr := c.stdout, c.stderr
	a, err := c.parse(args)
	if err != nil {
		return exitUsage
	}
	letters, err := readLetters(a.file, stderr)
	if err != nil {
		printLine(stderr, "replay:", err)
		return exitRefused
	}

	retries := a.retries
	if retries == 0 {
		retries = -1 // none; zero would select the default
	}
	sum, err := notification.Replay(ctx, notification.ReplayConfig{
		URL:      a.url,
		Token:    a.token,
		Retries:  retries,
		OnResult: func(r notification.ReplayResult) { printResult(stdout, r) },
	}, letters)
	if err != nil {
		printLine(stderr, "replay:", err)
		if !errors.Is(err, notification.ErrReplayStopped) {
			return exitUsage // the configuration: nothing was posted
		}
	}

	printSummary(stdout, len(letters), sum)
	if sum.Refused > 0 || sum.NotSent > 0 {
		return exitRefused
	}
	return exitOK
}

// parse reads the flags and the file name. Flags may come before or after
// the file. It prints usage errors to stderr.
func (c replayCmd) parse(args []string) (replayArgs, error) {
	var a replayArgs
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	fs.StringVar(&a.url, "url", "",
		"base URL of the running service (default $NOTIFIER_REPLAY_URL, else "+
			defaultReplayURL+")")
	fs.StringVar(&a.token, "token", "",
		"bearer token (default $NOTIFIER_API_TOKEN; prefer the variable, "+
			"since flags show in the process list)")
	fs.IntVar(&a.retries, "retries", notification.DefaultReplayRetries,
		"times to post a notification again after a 503 or no response")
	fs.Usage = func() {
		printLine(c.stderr,
			"usage: notifier replay [--url URL] [--token TOKEN] [--retries N] FILE")
		fs.PrintDefaults()
	}

	if err := fs.Parse(args); err != nil {
		return a, err
	}
	a.file = fs.Arg(0)
	if fs.NArg() > 0 {
		if err := fs.Parse(fs.Args()[1:]); err != nil {
			return a, err
		}
	}
	if a.file == "" || fs.NArg() > 0 || a.retries < 0 {
		fs.Usage()
		return a, errors.New("want exactly one file and retries >= 0")
	}

	a.url = firstSet(a.url, c.getenv("NOTIFIER_REPLAY_URL"), defaultReplayURL)
	a.token = firstSet(a.token, c.getenv("NOTIFIER_API_TOKEN"))
	return a, nil
}

// printf and printLine write the replay's output. Writing is best effort: an
// output that fails, such as a closed pipe, must not change the exit code,
// which reports the replay itself.
func printf(w io.Writer, format string, args ...any) {
	_, _ = fmt.Fprintf(w, format, args...)
}

func printLine(w io.Writer, args ...any) {
	_, _ = fmt.Fprintln(w, args...)
}

func firstSet(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

// readLetters reads a dead-letter file and warns on stderr about lines that
// are not dead letters.
func readLetters(path string, stderr io.Writer) ([]notification.DeadLetter, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }()

	letters, skipped, err := notification.ReadDeadLetters(f)
	if skipped > 0 {
		printf(stderr, "replay: warning: skipped %d line(s) of %s that are not dead "+
			"letters, such as a line torn by a crash during a write\n", skipped, path)
	}
	return letters, err
}

// printResult prints one line per notification: accepted or refused, its
// id, the last status, the attempts and, when refused, why.
func printResult(w io.Writer, r notification.ReplayResult) {
	if r.Accepted() {
		printf(w, "accepted id=%s status=%d attempts=%d\n", r.ID, r.Status, r.Attempts)
		return
	}
	printf(w, "refused id=%s status=%d attempts=%d reason=%q\n",
		r.ID, r.Status, r.Attempts, r.Reason)
}

// printSummary prints the counts, with the refusals by status, such as
// "replay: letters=3 accepted=1 refused=2 not_sent=0 refused_by_status=400:1,503:1".
func printSummary(w io.Writer, letters int, s notification.ReplaySummary) {
	var byStatus []string
	for _, code := range slices.Sorted(maps.Keys(s.ByStatus)) {
		byStatus = append(byStatus, fmt.Sprintf("%d:%d", code, s.ByStatus[code]))
	}
	printf(w, "replay: letters=%d accepted=%d refused=%d not_sent=%d refused_by_status=%s\n",
		letters, s.Accepted, s.Refused, s.NotSent, strings.Join(byStatus, ","))
}
