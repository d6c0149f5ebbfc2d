package modules_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/fx"

	"github.com/fxpool/fxpool/fxtest"
	"github.com/fxpool/fxpool/modules"
	"github.com/fxpool/fxpool/notification"
)

// hostileBodies are request bodies that the service must refuse with a 4xx
// and survive.
func hostileBodies() map[string]string {
	valid := `{"recipient":"r","body":"b"}`
	const maxBody = notification.MaxBodyBytes
	return map[string]string{
		"empty":                   "",
		"whitespace":              " \r\n\t ",
		"null":                    "null",
		"true":                    "true",
		"number":                  "123",
		"string":                  `"x"`,
		"array":                   "[]",
		"array of objects":        "[" + valid + "]",
		"nested arrays":           with("recipient", nest("[", "]", 30000, "")),
		"nested objects":          with("metadata", nest(`{"a":`, "}", 10500, "1")),
		"unclosed nesting":        strings.Repeat(`{"a":[`, 10000),
		"invalid utf-8 in string": "{\"recipient\":\"\xff\xfe\",\"body\":\"b\"}",
		"invalid utf-8 outside":   "\xff" + valid,
		"overlong utf-8":          "{\"recipient\":\"\xc0\xaf\",\"body\":\"b\"}",
		"nul byte outside":        "\x00" + valid,
		"trailing garbage":        valid + "garbage",
		"two objects":             valid + valid,
		"trailing comma":          `{"recipient":"r","body":"b",}`,
		"single quotes":           `{'recipient':'r','body':'b'}`,
		"recipient number":        with("recipient", "1"),
		"body array":              with("body", `["b"]`),
		"body null":               `{"recipient":"r","body":null}`,
		"id number":               with("id", "123"),
		"id bool":                 with("id", "true"),
		"metadata array":          with("metadata", `["a"]`),
		"metadata number value":   with("metadata", `{"a":1}`),
		"metadata nested":         with("metadata", `{"a":{"b":"c"}}`),
		"huge number":             with("recipient", "1e999"),
		"id of 129":               with("id", `"`+strings.Repeat("a", 129)+`"`),
		"id of 60000":             with("id", `"`+strings.Repeat("a", 60000)+`"`),
		"id with space":           with("id", `"a b"`),
		"id with newline":         with("id", `"a\nb"`),
		"id with unicode":         with("id", `"é"`),
		"empty recipient":         with("recipient", `""`),
		"unknown field":           with("admin", "true"),
		"proto field":             with("__proto__", "{}"),
		"case-folded field":       `{"RECIPIENT":"r","body":"b","Recipient":1}`,
		"missing body":            `{"recipient":"r"}`,
		"recipient too long":      with("recipient", `"`+strings.Repeat("r", 513)+`"`),
		"subject too long":        with("subject", `"`+strings.Repeat("s", 1025)+`"`),
		"too much metadata":       with("metadata", "{"+manyEntries(33)+"}"),
		"over the size limit":     with("body", `"`+strings.Repeat("b", maxBody)+`"`),
	}
}

// with returns a valid notification with one more member, name, whose value
// is the raw JSON raw. encoding/json keeps the last of duplicate members, so
// raw replaces the recipient or the body, unless raw is null.
func with(name, raw string) string {
	return `{"recipient":"r","body":"b","` + name + `":` + raw + "}"
}

// nest returns inner wrapped in n pairs of open and closing.
func nest(open, closing string, n int, inner string) string {
	return strings.Repeat(open, n) + inner + strings.Repeat(closing, n)
}

func manyEntries(n int) string {
	entries := make([]string, n)
	for i := range entries {
		entries[i] = fmt.Sprintf(`"k%d":"v"`, i)
	}
	return strings.Join(entries, ",")
}

// TestHostileBodiesGet4xx posts each hostile body to the real server and
// checks that every answer is a JSON 4xx, never a 5xx, and that the service
// still serves afterwards.
func TestHostileBodiesGet4xx(t *testing.T) {
	t.Parallel()
	var s started
	a := fxtest.New(t, populate(&s))
	a.RequireStart()
	defer a.RequireStop()

	for name, body := range hostileBodies() {
		got := postWith(t, s.url("/v1/notifications"), "application/json", body)
		checkRefused(t, name, got)
	}
	contentTypes := []string{"", "text/plain", "application/json; charset=\xff", "text/json"}
	for _, ct := range contentTypes {
		got := postWith(t, s.url("/v1/notifications"), ct, `{"recipient":"r","body":"b"}`)
		checkRefused(t, "Content-Type "+ct, got)
	}

	if code := get(t, s.url("/healthz")); code != http.StatusOK {
		t.Errorf("GET /healthz after hostile bodies = %d, want 200", code)
	}
	if got := postWith(t, s.url("/v1/notifications"), "application/json",
		`{"recipient":"r","body":"b"}`); got.status != http.StatusAccepted {
		t.Errorf("POST valid after hostile bodies = %d %s, want 202", got.status, got.body)
	}
}

// checkRefused checks that an answer is a 4xx with a JSON error.
func checkRefused(t *testing.T, name string, got postAnswer) {
	t.Helper()
	var body struct{ Error string }
	err := json.Unmarshal([]byte(got.body), &body)
	if got.status < 400 || got.status >= 500 || err != nil || body.Error == "" {
		t.Errorf("POST %s = %d %q, want a 4xx with a JSON error", name, got.status, got.body)
	}
}

// headerTimeout is the read-header timeout of the slow-header test: short,
// so that the test is quick, and far longer than a loopback round trip.
const headerTimeout = 300 * time.Millisecond

// TestSlowHeadersAreCutOff sends a request's headers one byte at a time, each
// byte well within the timeout but the whole far beyond it, and checks that
// the server closes the connection without answering.
func TestSlowHeadersAreCutOff(t *testing.T) {
	t.Parallel()
	var s started
	a := fxtest.New(t,
		fx.Replace(modules.HTTPConfig{Addr: "127.0.0.1:0", ReadHeaderTimeout: headerTimeout}),
		populate(&s),
	)
	a.RequireStart()
	defer a.RequireStop()

	conn, err := (&net.Dialer{}).DialContext(t.Context(), "tcp", s.server.Addr().String())
	if err != nil {
		t.Fatalf("Dial() error = %v", err)
	}
	defer func() { _ = conn.Close() }()
	closed := make(chan readResult, 1)
	go func() {
		n, err := conn.Read(make([]byte, 1024))
		closed <- readResult{n, err}
	}()

	sent, res := dribble(conn, closed)
	if res.n != 0 || res.err == nil {
		t.Errorf("Read() after %d header bytes = %d, %v, want 0 bytes and the connection "+
			"closed", sent, res.n, res.err)
	}
	if code := get(t, s.url("/healthz")); code != http.StatusOK {
		t.Errorf("GET /healthz after a slow client = %d, want 200", code)
	}
}

// readResult is the result of a Read.
type readResult struct {
	n   int
	err error
}

// dribbleInterval is the pause between two bytes of the slow client.
const dribbleInterval = 20 * time.Millisecond

// dribble writes a request line and then header bytes one at a time, every
// dribbleInterval, until the server closes the connection or about 5 seconds
// of bytes have been sent. It returns the bytes sent and the closing read's
// result, which has a nil error if the server never closed.
func dribble(conn net.Conn, closed <-chan readResult) (int, readResult) {
	head := "POST /v1/notifications HTTP/1.1\r\nHost: test\r\nX-Slow: "
	if _, err := io.WriteString(conn, head); err != nil {
		return 0, readResult{err: err}
	}
	tick := time.NewTicker(dribbleInterval)
	defer tick.Stop()
	const most = int(5 * time.Second / dribbleInterval)
	for sent := range most {
		select {
		case res := <-closed:
			return sent, res
		case <-tick.C:
		}
		if _, err := conn.Write([]byte{'a'}); err != nil {
			return sent, <-closed
		}
	}
	return most, readResult{}
}

// TestOversizedHeaderGets431 checks that a header of more than 64 KiB is
// refused by the server's limit before any handler runs.
func TestOversizedHeaderGets431(t *testing.T) {
	t.Parallel()
	var s started
	a := fxtest.New(t, populate(&s))
	a.RequireStart()
	defer a.RequireStop()

	conn, err := (&net.Dialer{}).DialContext(t.Context(), "tcp", s.server.Addr().String())
	if err != nil {
		t.Fatalf("Dial() error = %v", err)
	}
	defer func() { _ = conn.Close() }()
	req := "POST /v1/notifications HTTP/1.1\r\nHost: test\r\nX-Big: " +
		strings.Repeat("a", 65<<10) + "\r\nContent-Type: application/json\r\n\r\n"
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatalf("Write() error = %v", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("ReadResponse() error = %v", err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("POST with a 65 KiB header = %d, want 431", resp.StatusCode)
	}
	if code := get(t, s.url("/healthz")); code != http.StatusOK {
		t.Errorf("GET /healthz after an oversized header = %d, want 200", code)
	}
}
