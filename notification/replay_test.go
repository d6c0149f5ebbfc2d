package notification

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// letters returns a dead letter for each id.
func letters(ids ...string) []DeadLetter {
	var out []DeadLetter
	for _, id := range ids {
		out = append(out, DeadLetter{
			Notification: Notification{ID: id, Recipient: "r", Body: "body of " + id},
			Reason:       "failed",
			Attempts:     1,
		})
	}
	return out
}

// roundTripFunc answers requests without a network, so that tests of waits
// can run under synctest.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// answer returns a response with status, the headers in kv pairs, and
// content as its body.
func answer(status int, content string, kv ...string) *http.Response {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	body := io.NopCloser(strings.NewReader(content))
	return &http.Response{StatusCode: status, Header: h, Body: body}
}

func fakeClient(f roundTripFunc) *http.Client { return &http.Client{Transport: f} }

func TestReplayPostsEachLetterWithItsID(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var n Notification
		_ = json.NewDecoder(r.Body).Decode(&n)
		mu.Lock()
		got = append(got, fmt.Sprintf("%s %s %s %s %s", r.Method, r.URL.Path,
			r.Header.Get("Authorization"), r.Header.Get("Content-Type"), n.ID))
		mu.Unlock()
		writeJSON(w, http.StatusAccepted, acceptedBody{ID: n.ID})
	}))
	defer srv.Close()

	var results []ReplayResult
	sum, err := Replay(context.Background(), ReplayConfig{
		URL:      srv.URL + "/",
		Token:    "tok",
		OnResult: func(r ReplayResult) { results = append(results, r) },
	}, letters("a", "b"))
	if err != nil || sum.Accepted != 2 || sum.Refused != 0 || sum.NotSent != 0 {
		t.Fatalf("Replay(a, b) = %+v, %v, want 2 accepted", sum, err)
	}
	want := []string{
		"POST /v1/notifications Bearer tok application/json a",
		"POST /v1/notifications Bearer tok application/json b",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("requests = %q, want %q", got, want)
	}
	if len(results) != 2 || results[0].ID != "a" || !results[1].Accepted() ||
		results[1].Attempts != 1 {
		t.Errorf("results = %+v, want a and b accepted at the first attempt", results)
	}
}

func TestReplayReportsRefusals(t *testing.T) {
	t.Parallel()
	client := fakeClient(func(r *http.Request) (*http.Response, error) {
		var n Notification
		_ = json.NewDecoder(r.Body).Decode(&n)
		switch n.ID {
		case "bad":
			return answer(400, `{"error":"recipient is required"}`), nil
		case "broken":
			return answer(500, "not json"), nil
		default:
			return answer(202, `{"id":"`+n.ID+`"}`), nil
		}
	})

	var results []ReplayResult
	sum, err := Replay(context.Background(), ReplayConfig{
		URL:      "http://notifier.test",
		Client:   client,
		OnResult: func(r ReplayResult) { results = append(results, r) },
	}, letters("ok", "bad", "broken", "ok2"))
	if err != nil || sum.Accepted != 2 || sum.Refused != 2 ||
		sum.ByStatus[400] != 1 || sum.ByStatus[500] != 1 {
		t.Fatalf("Replay() = %+v, %v, want 2 accepted, one 400 and one 500", sum, err)
	}
	want := []ReplayResult{
		{"ok", 202, 1, ""},
		{"bad", 400, 1, "recipient is required"},
		{"broken", 500, 1, "Internal Server Error"},
		{"ok2", 202, 1, ""},
	}
	if fmt.Sprint(results) != fmt.Sprint(want) {
		t.Errorf("results = %+v, want %+v", results, want)
	}
}

func TestReplayStopsAtUnauthorized(t *testing.T) {
	t.Parallel()
	posts := 0
	client := fakeClient(func(*http.Request) (*http.Response, error) {
		posts++
		return answer(401, `{"error":"missing or invalid bearer token"}`), nil
	})

	sum, err := Replay(context.Background(), ReplayConfig{
		URL:    "http://notifier.test",
		Client: client,
	}, letters("a", "b", "c"))
	if !errors.Is(err, ErrReplayStopped) || sum.NotSent != 3 || posts != 1 {
		t.Errorf("Replay() with a bad token = %+v, %v after %d posts; "+
			"want ErrReplayStopped, 3 not sent, 1 post", sum, err, posts)
	}
}

// TestReplayHonoursRetryAfter runs under synctest: the waits are the
// scenario, and fake time measures them exactly.
func TestReplayHonoursRetryAfter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		retryAfter string
		cfg        ReplayConfig
		busy       int // 503s before a 202
		wantStatus int
		wantTries  int
		wantWait   time.Duration
	}{
		{"retry after seconds", "2", ReplayConfig{}, 2, 202, 3, 4 * time.Second},
		{"no retry after waits a second", "", ReplayConfig{}, 1, 202, 2, time.Second},
		{
			"wait capped", "3600",
			ReplayConfig{MaxWait: 5 * time.Second},
			1, 202, 2, 5 * time.Second,
		},
		{"retries run out", "1", ReplayConfig{Retries: 2}, 10, 503, 3, 2 * time.Second},
		{"no retries", "1", ReplayConfig{Retries: -1}, 10, 503, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				calls := 0
				tt.cfg.URL = "http://notifier.test"
				tt.cfg.Client = fakeClient(func(*http.Request) (*http.Response, error) {
					calls++
					if calls <= tt.busy {
						busy := answer(503, `{"error":"queue full"}`, "Retry-After", tt.retryAfter)
						return busy, nil
					}
					return answer(202, `{"id":"a"}`), nil
				})
				var got ReplayResult
				tt.cfg.OnResult = func(r ReplayResult) { got = r }

				start := time.Now()
				_, err := Replay(context.Background(), tt.cfg, letters("a"))
				waited := time.Since(start)

				if err != nil || got.Status != tt.wantStatus || got.Attempts != tt.wantTries {
					t.Errorf("Replay() = %+v, %v, want status %d after %d attempts",
						got, err, tt.wantStatus, tt.wantTries)
				}
				if waited != tt.wantWait {
					t.Errorf("Replay() waited %v, want %v", waited, tt.wantWait)
				}
			})
		})
	}
}

func TestReplayStopsWhenUnreachable(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		refused := errors.New("connect: connection refused")
		calls := 0
		client := fakeClient(func(*http.Request) (*http.Response, error) {
			calls++
			return nil, refused
		})

		sum, err := Replay(context.Background(), ReplayConfig{
			URL:     "http://user:pa55word@notifier.test",
			Client:  client,
			Retries: 2,
		}, letters("a", "b", "c"))

		if !errors.Is(err, ErrReplayStopped) || sum.NotSent != 3 || calls != 3 {
			t.Errorf("Replay(unreachable) = %+v, %v after %d calls, "+
				"want ErrReplayStopped, 3 not sent, 3 calls", sum, err, calls)
		}
		if err != nil && strings.Contains(err.Error(), "pa55word") {
			t.Errorf("Replay() error = %q, want no password", err)
		}
	})
}

func TestReplayStopsWhenContextEnds(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		client := fakeClient(func(r *http.Request) (*http.Response, error) {
			var n Notification
			_ = json.NewDecoder(r.Body).Decode(&n)
			if n.ID == "b" {
				cancel()
				return answer(503, `{"error":"queue full"}`, "Retry-After", "60"), nil
			}
			return answer(202, `{"id":"a"}`), nil
		})

		sum, err := Replay(ctx, ReplayConfig{URL: "http://notifier.test", Client: client},
			letters("a", "b", "c"))
		if !errors.Is(err, ErrReplayStopped) || sum.Accepted != 1 || sum.NotSent != 2 {
			t.Errorf("Replay(cancelled at b) = %+v, %v, want ErrReplayStopped, "+
				"1 accepted, 2 not sent", sum, err)
		}
	})
}

func TestReplayRejectsBadConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  ReplayConfig
	}{
		{"no url", ReplayConfig{}},
		{"relative url", ReplayConfig{URL: "/v1"}},
		{"other scheme", ReplayConfig{URL: "ftp://notifier.test"}},
		{"negative wait", ReplayConfig{URL: "http://notifier.test", MaxWait: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			client := fakeClient(func(*http.Request) (*http.Response, error) {
				t.Error("request sent with a bad configuration")
				return answer(202, "{}"), nil
			})
			tt.cfg.Client = client
			_, err := Replay(context.Background(), tt.cfg, letters("a"))
			if err == nil || errors.Is(err, ErrReplayStopped) {
				t.Errorf("Replay(%+v) = %v, want a configuration error", tt.cfg, err)
			}
		})
	}
}
