package notification

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

func TestHandlerRequiresToken(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		auth string // Authorization header; none when empty
	}{
		{name: "missing", auth: ""},
		{name: "wrong token", auth: "Bearer wrong"},
		{name: "token prefix", auth: "Bearer " + testToken[:4]},
		{name: "token with suffix", auth: "Bearer " + testToken + "x"},
		{name: "empty token", auth: "Bearer "},
		{name: "no token", auth: "Bearer"},
		{name: "basic scheme", auth: "Basic " + testToken},
		{name: "no scheme", auth: testToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := &fakeNotifier{id: generatedID}
			r := newRequest(validBody)
			if tt.auth != "" {
				r.Header.Set("Authorization", tt.auth)
			}

			rec := serve(NewHandler(fake, HandlerConfig{Token: testToken}), r)

			checkError(t, rec, http.StatusUnauthorized, "missing or invalid bearer token")
			if got := rec.Header().Get("WWW-Authenticate"); got != "Bearer" {
				t.Errorf("WWW-Authenticate = %q, want %q", got, "Bearer")
			}
			if n := len(fake.Calls()); n != 0 {
				t.Errorf("Notify calls = %d, want 0", n)
			}
		})
	}
}

func TestHandlerAcceptsToken(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		auth string
	}{
		{name: "bearer", auth: "Bearer " + testToken},
		{name: "lowercase scheme", auth: "bearer " + testToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := newRequest(validBody)
			r.Header.Set("Authorization", tt.auth)

			h := NewHandler(&fakeNotifier{id: generatedID}, HandlerConfig{Token: testToken})
			rec := serve(h, r)

			checkResponse(t, rec, http.StatusAccepted)
		})
	}
}

func TestHandlerWithoutTokenIgnoresAuthorization(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		auth string // Authorization header; none when empty
	}{
		{name: "no header", auth: ""},
		{name: "any header", auth: "Bearer anything"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := newRequest(validBody)
			if tt.auth != "" {
				r.Header.Set("Authorization", tt.auth)
			}

			rec := serve(NewHandler(&fakeNotifier{id: generatedID}, HandlerConfig{}), r)

			checkResponse(t, rec, http.StatusAccepted)
		})
	}
}

func TestHandlerRejectsMethods(t *testing.T) {
	t.Parallel()
	methods := []string{
		http.MethodGet, http.MethodHead, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions,
	}
	for _, method := range methods {
		t.Run(strings.ToLower(method), func(t *testing.T) {
			t.Parallel()
			fake := &fakeNotifier{id: generatedID}
			r := newRequest(validBody)
			r.Method = method

			// Without a token too: the method is checked first.
			rec := serve(NewHandler(fake, HandlerConfig{Token: testToken}), r)

			checkError(t, rec, http.StatusMethodNotAllowed, "method must be POST")
			if got := rec.Header().Get("Allow"); got != http.MethodPost {
				t.Errorf("Allow = %q, want %q", got, http.MethodPost)
			}
			if n := len(fake.Calls()); n != 0 {
				t.Errorf("Notify calls = %d, want 0", n)
			}
		})
	}
}

func TestHandlerRejectsLargeBody(t *testing.T) {
	t.Parallel()
	prefix := `{"recipient":"r","body":"`
	large := prefix + strings.Repeat("x", MaxBodyBytes+1-len(prefix)-2) + `"}`
	tests := []struct {
		name          string
		body          string
		contentLength int64
	}{
		{name: "one byte over", body: large, contentLength: int64(len(large))},
		{name: "unknown length", body: large, contentLength: -1},
		{name: "length understated", body: large, contentLength: 10},
		{name: "length overstated", body: validBody, contentLength: MaxBodyBytes + 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := &fakeNotifier{id: generatedID}
			r := newRequest(tt.body)
			r.ContentLength = tt.contentLength

			rec := serve(NewHandler(fake, HandlerConfig{}), r)

			checkError(t, rec, http.StatusRequestEntityTooLarge, tooLargeError)
			if n := len(fake.Calls()); n != 0 {
				t.Errorf("Notify calls = %d, want 0", n)
			}
		})
	}
}

func TestHandlerRejectsContentType(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		contentType string // none when empty
	}{
		{name: "missing", contentType: ""},
		{name: "text", contentType: "text/plain"},
		{name: "form", contentType: "application/x-www-form-urlencoded"},
		{name: "json suffix", contentType: "application/problem+json"},
		{name: "malformed", contentType: "application/json; charset"},
		{name: "other charset", contentType: "application/json; charset=latin1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fake := &fakeNotifier{id: generatedID}
			r := newRequest(validBody)
			r.Header.Del("Content-Type")
			if tt.contentType != "" {
				r.Header.Set("Content-Type", tt.contentType)
			}

			rec := serve(NewHandler(fake, HandlerConfig{}), r)

			checkError(t, rec, http.StatusUnsupportedMediaType,
				"Content-Type must be application/json")
			if n := len(fake.Calls()); n != 0 {
				t.Errorf("Notify calls = %d, want 0", n)
			}
		})
	}
}

func TestHandlerNeverRevealsToken(t *testing.T) {
	t.Parallel()
	core, logs := observer.New(zapcore.DebugLevel)
	fake := &fakeNotifier{id: generatedID}
	h := NewHandler(fake, HandlerConfig{Token: testToken, Logger: zap.New(core)})
	auths := []string{"", "Bearer wrong", "Bearer " + testToken, "Basic " + testToken}
	errs := []error{nil, ErrQueueFull, errors.New("boom")}

	for _, auth := range auths {
		for _, err := range errs {
			fake.err = err
			r := newRequest(validBody)
			r.Header.Set("Authorization", auth)

			rec := serve(h, r)

			if strings.Contains(rec.Body.String(), testToken) {
				t.Errorf("body = %s, want no token", rec.Body)
			}
			if got := fmt.Sprint(rec.Header()); strings.Contains(got, testToken) {
				t.Errorf("headers = %s, want no token", got)
			}
		}
	}

	if logs.Len() == 0 {
		t.Fatalf("log entries = 0, want the unexpected errors logged")
	}
	for _, e := range logs.All() {
		line := fmt.Sprint(e.Message, e.ContextMap())
		if strings.Contains(line, testToken) {
			t.Errorf("log entry = %s, want no token", line)
		}
	}
}
