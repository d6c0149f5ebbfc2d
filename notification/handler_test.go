package notification

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

const (
	testToken     = "s3cret-t0ken"
	generatedID   = "generated-id"
	validBody     = `{"recipient":"ops@example.com","body":"disk full"}`
	jsonType      = "application/json"
	tooLargeError = "request body must be at most 65536 bytes"
)

// fakeNotifier records calls and validates like [Service.Notify], so that
// 400 messages are the real ones, then returns id or err.
type fakeNotifier struct {
	id  string // returned when the notification has no ID
	err error  // returned for a valid notification when not nil

	mu    sync.Mutex
	calls []Notification // guarded by mu
}

func (f *fakeNotifier) Notify(_ context.Context, n Notification) (string, error) {
	f.mu.Lock()
	f.calls = append(f.calls, n)
	f.mu.Unlock()

	if err := n.Validate(); err != nil {
		return "", err
	}
	if f.err != nil {
		return "", f.err
	}
	if n.ID != "" {
		return n.ID, nil
	}
	return f.id, nil
}

func (f *fakeNotifier) Calls() []Notification {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Notification(nil), f.calls...)
}

func newRequest(body string) *http.Request {
	r := httptest.NewRequestWithContext(context.Background(), http.MethodPost,
		"/v1/notifications", strings.NewReader(body))
	r.Header.Set("Content-Type", jsonType)
	return r
}

func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

// checkResponse checks the status, the headers every response has, and that
// the body is a JSON object; it returns the object.
func checkResponse(t *testing.T, rec *httptest.ResponseRecorder, want int) map[string]string {
	t.Helper()
	if rec.Code != want {
		t.Errorf("status = %d, want %d (body %s)", rec.Code, want, rec.Body)
	}
	if got := rec.Header().Get("Content-Type"); got != jsonType {
		t.Errorf("Content-Type = %q, want %q", got, jsonType)
	}
	if got := rec.Header().Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("X-Content-Type-Options = %q, want %q", got, "nosniff")
	}

	var body map[string]string
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("json.Unmarshal(%s) = %v, want nil", rec.Body, err)
	}
	return body
}

// checkError checks an error response and its message.
func checkError(t *testing.T, rec *httptest.ResponseRecorder, status int, msg string) {
	t.Helper()
	body := checkResponse(t, rec, status)
	if got := body["error"]; got != msg {
		t.Errorf("error = %q, want %q", got, msg)
	}
	if len(body) != 1 {
		t.Errorf("body = %v, want only an error", body)
	}
}

func TestHandlerAccepts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		body        string
		contentType string
		wantID      string
		want        Notification
	}{
		{
			name:        "given id",
			body:        `{"id":"order-42:v1","recipient":"a@example.com","body":"hi"}`,
			contentType: jsonType,
			wantID:      "order-42:v1",
			want:        Notification{ID: "order-42:v1", Recipient: "a@example.com", Body: "hi"},
		},
		{
			name:        "generated id",
			body:        validBody,
			contentType: jsonType,
			wantID:      generatedID,
			want:        Notification{Recipient: "ops@example.com", Body: "disk full"},
		},
		{
			name:        "all fields",
			body:        `{"recipient":"r","subject":"s","body":"b","metadata":{"k":"v"}}`,
			contentType: jsonType,
			wantID:      generatedID,
			want: Notification{
				Recipient: "r", Subject: "s", Body: "b", Metadata: map[string]string{"k": "v"},
			},
		},
		{
			name:        "charset parameter",
			body:        validBody,
			contentType: "application/json; charset=utf-8",
			wantID:      generatedID,
			want:        Notification{Recipient: "ops@example.com", Body: "disk full"},
		},
		{
			name:        "surrounding whitespace",
			body:        "\r\n\t " + validBody + "\n",
			contentType: "Application/JSON",
			wantID:      generatedID,
			want:        Notification{Recipient: "ops@example.com", Body: "disk full"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := &fakeNotifier{id: generatedID}
			r := newRequest(tt.body)
			r.Header.Set("Content-Type", tt.contentType)

			rec := serve(NewHandler(fake, HandlerConfig{}), r)

			body := checkResponse(t, rec, http.StatusAccepted)
			if got := body["id"]; got != tt.wantID {
				t.Errorf("id = %q, want %q", got, tt.wantID)
			}
			calls := fake.Calls()
			if len(calls) != 1 {
				t.Fatalf("Notify calls = %d, want 1", len(calls))
			}
			if !reflect.DeepEqual(calls[0], tt.want) {
				t.Errorf("ServeHTTP(%s) notified %+v, want %+v", tt.body, calls[0], tt.want)
			}
		})
	}
}

func TestHandlerAcceptsBodyOfMaxSize(t *testing.T) {
	t.Parallel()
	prefix := `{"recipient":"r","body":"`
	body := prefix + strings.Repeat("x", MaxBodyBytes-len(prefix)-2) + `"}`
	fake := &fakeNotifier{id: generatedID}

	rec := serve(NewHandler(fake, HandlerConfig{}), newRequest(body))

	checkResponse(t, rec, http.StatusAccepted)
}

func TestHandlerRejectsBadBody(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		body       string
		want       string
		wantNotify bool // the body decodes and reaches the notifier
	}{
		{
			name:       "missing recipient",
			body:       `{"body":"b"}`,
			want:       "recipient is required",
			wantNotify: true,
		},
		{
			name:       "missing body",
			body:       `{"recipient":"r"}`,
			want:       "body is required",
			wantNotify: true,
		},
		{
			name:       "bad id characters",
			body:       `{"id":"a b/c","recipient":"r","body":"b"}`,
			want:       "id must be 1 to 128 of A-Za-z0-9._:-",
			wantNotify: true,
		},
		{
			name:       "id of 129 characters",
			body:       `{"id":"` + strings.Repeat("a", 129) + `","recipient":"r","body":"b"}`,
			want:       "id must be 1 to 128 of A-Za-z0-9._:-",
			wantNotify: true,
		},
		{
			name: "unknown field",
			body: `{"recipient":"r","body":"b","priority":"high"}`,
			want: `unknown field "priority"`,
		},
		{
			name: "field name in another case",
			body: `{"RECIPIENT":"r","body":"b"}`,
			want: `unknown field "RECIPIENT"`,
		},
		{
			name: "recipient not a string",
			body: `{"recipient":42,"body":"b"}`,
			want: `field "recipient" must be a string`,
		},
		{
			name: "metadata not an object",
			body: `{"recipient":"r","body":"b","metadata":["k"]}`,
			want: `field "metadata" must be an object of strings`,
		},
		{
			name: "metadata value not a string",
			body: `{"recipient":"r","body":"b","metadata":{"k":1}}`,
			want: `field "metadata" must be an object of strings`,
		},
		{
			name: "trailing object",
			body: validBody + `{}`,
			want: "request body must hold a single JSON object",
		},
		{
			name: "trailing garbage",
			body: validBody + ` x`,
			want: "request body must hold a single JSON object",
		},
		{name: "empty", body: "", want: "request body is empty"},
		{name: "only whitespace", body: " \n\t", want: "request body is empty"},
		{name: "null", body: "null", want: "request body must be a JSON object"},
		{name: "array", body: "[]", want: "request body must be a JSON object"},
		{name: "string", body: `"str"`, want: "request body must be a JSON object"},
		{name: "number", body: "1", want: "request body must be a JSON object"},
		{name: "not json", body: "recipient=r", want: "request body is not valid JSON"},
		{name: "truncated", body: `{"recipient":`, want: "request body is not valid JSON"},
		{name: "bad syntax", body: `{"recipient" "r"}`, want: "request body is not valid JSON"},
		{
			name: "invalid utf-8",
			body: "{\"recipient\":\"r\",\"body\":\"\xff\xfe\"}",
			want: "request body must be valid UTF-8",
		},
		{
			name: "nested metadata objects",
			body: strings.Repeat(`{"metadata":`, 5000) + `"x"` + strings.Repeat(`}`, 5000),
			want: `field "metadata" must be an object of strings`,
		},
		{
			name: "nested unknown objects",
			body: strings.Repeat(`{"x":`, 10000) + `"x"` + strings.Repeat(`}`, 10000),
			want: `unknown field "x"`,
		},
		{
			name: "nested arrays past max depth",
			body: `{"metadata":` + strings.Repeat(`[`, 30000) + strings.Repeat(`]`, 30000) + `}`,
			want: "request body is not valid JSON",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := &fakeNotifier{id: generatedID}

			rec := serve(NewHandler(fake, HandlerConfig{}), newRequest(tt.body))

			checkError(t, rec, http.StatusBadRequest, tt.want)
			if got := len(fake.Calls()) == 1; got != tt.wantNotify {
				t.Errorf("Notify called = %t, want %t", got, tt.wantNotify)
			}
		})
	}
}

// TestHandlerRejectsDeepNestingPastLimit sends 10000 nested objects, which
// are larger than MaxBodyBytes; the point is a 4xx rather than a crash.
func TestHandlerRejectsDeepNestingPastLimit(t *testing.T) {
	t.Parallel()
	body := strings.Repeat(`{"metadata":`, 10000) + `"x"` + strings.Repeat(`}`, 10000)

	rec := serve(NewHandler(&fakeNotifier{}, HandlerConfig{}), newRequest(body))

	checkError(t, rec, http.StatusRequestEntityTooLarge, tooLargeError)
}

func TestHandlerReportsUnavailable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want string
	}{
		{name: "queue full", err: ErrQueueFull, want: "queue full"},
		{name: "shutting down", err: ErrShuttingDown, want: "service is shutting down"},
		{
			name: "wrapped",
			err:  fmt.Errorf("submit: %w", ErrQueueFull),
			want: "queue full",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := &fakeNotifier{err: tt.err}

			rec := serve(NewHandler(fake, HandlerConfig{}), newRequest(validBody))

			checkError(t, rec, http.StatusServiceUnavailable, tt.want)
			if got := rec.Header().Get("Retry-After"); got != "1" {
				t.Errorf("Retry-After = %q, want %q", got, "1")
			}
		})
	}
}

func TestHandlerHidesUnexpectedError(t *testing.T) {
	t.Parallel()
	core, logs := observer.New(zapcore.DebugLevel)
	cause := errors.New("database password is hunter2")
	fake := &fakeNotifier{err: cause}
	body := `{"id":"n-1","recipient":"private@example.com","body":"b"}`
	h := NewHandler(fake, HandlerConfig{Logger: zap.New(core)})

	rec := serve(h, newRequest(body))

	checkError(t, rec, http.StatusInternalServerError, "internal error")
	if strings.Contains(rec.Body.String(), "hunter2") {
		t.Errorf("body = %s, want no trace of the cause", rec.Body)
	}
	entries := logs.All()
	if len(entries) != 1 {
		t.Fatalf("log entries = %d, want 1", len(entries))
	}
	e := entries[0]
	if e.Level != zapcore.ErrorLevel {
		t.Errorf("log level = %v, want %v", e.Level, zapcore.ErrorLevel)
	}
	fields := e.ContextMap()
	if got := fields["id"]; got != "n-1" {
		t.Errorf("log field id = %v, want %q", got, "n-1")
	}
	if got := fields["error"]; got != cause.Error() {
		t.Errorf("log field error = %v, want %q", got, cause.Error())
	}
	if got := fmt.Sprint(fields); strings.Contains(got, "private@example.com") {
		t.Errorf("log fields = %s, want no part of the body", got)
	}
}

func TestHandlerLogsCanceledRequestAtDebug(t *testing.T) {
	t.Parallel()
	core, logs := observer.New(zapcore.DebugLevel)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := newRequest(validBody).WithContext(ctx)
	h := NewHandler(&fakeNotifier{err: context.Canceled}, HandlerConfig{Logger: zap.New(core)})

	rec := serve(h, r)

	checkError(t, rec, http.StatusInternalServerError, "internal error")
	if got := logs.FilterLevelExact(zapcore.DebugLevel).Len(); got != 1 {
		t.Errorf("debug log entries = %d, want 1", got)
	}
	if got := logs.FilterLevelExact(zapcore.ErrorLevel).Len(); got != 0 {
		t.Errorf("error log entries = %d, want 0", got)
	}
}

func FuzzHandler(f *testing.F) {
	seeds := []string{
		validBody,
		`{"id":"x","recipient":"r","body":"b","metadata":{"k":"v"}}`,
		`{"recipient":1}`,
		`{"unknown":true}`,
		"null",
		"[]",
		"",
		strings.Repeat(`{"metadata":`, 100) + `"x"` + strings.Repeat(`}`, 100),
		strings.Repeat("[", 20000),
		"{\"recipient\":\"\xff\",\"body\":\"b\"}",
		validBody + "garbage",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		h := NewHandler(&fakeNotifier{id: generatedID}, HandlerConfig{})

		rec := serve(h, newRequest(string(body)))

		if rec.Code >= 500 {
			t.Errorf("status = %d, want < 500 (body %s)", rec.Code, rec.Body)
		}
		var resp map[string]string
		if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
			t.Errorf("json.Unmarshal(%q) = %v, want nil", rec.Body, err)
		}
	})
}

func TestHandlerCountsMalformedRequests(t *testing.T) {
	t.Parallel()
	var count atomic.Int64
	h := NewHandler(&fakeNotifier{}, HandlerConfig{OnMalformed: func() { count.Add(1) }})

	serve(h, newRequest(`{"recipient":"r","body":"b","extra":1}`))
	serve(h, newRequest(`not json`))
	plain := newRequest(`{"recipient":"r","body":"b"}`)
	plain.Header.Set("Content-Type", "text/plain")
	serve(h, plain)
	serve(h, newRequest(`{"recipient":"r","body":"b"}`))

	if got := count.Load(); got != 3 {
		t.Errorf("OnMalformed calls = %d, want 3 (two bad bodies and a bad Content-Type)", got)
	}
}
