package notification

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// Defaults of a [ReplayConfig].
const (
	DefaultReplayRetries = 5
	DefaultReplayMaxWait = 30 * time.Second
	defaultReplayTimeout = 10 * time.Second
)

// replayPath is where [Replay] posts, relative to [ReplayConfig.URL].
const replayPath = "/v1/notifications"

// ErrReplayStopped is matched by the error of [Replay] when it stops before
// the last letter: its context ended, or the service could not be reached.
var ErrReplayStopped = errors.New("notification: replay stopped")

// ReplayConfig configures [Replay]. The zero value of every field but URL
// selects its default.
type ReplayConfig struct {
	// URL is the base URL of a running service, such as
	// http://127.0.0.1:8080. Each notification is posted to URL +
	// "/v1/notifications". Required.
	URL string

	// Token, when not empty, is sent as "Authorization: Bearer <token>".
	// It is never part of a result or an error.
	Token string

	// Client sends the requests. Default: a client of its own, whose
	// requests time out after 10 seconds and whose idle connections are
	// closed when Replay returns.
	Client *http.Client

	// Retries is how many more times a notification is posted after a 503
	// or after no response at all. Default [DefaultReplayRetries]; a
	// negative value means none.
	Retries int

	// MaxWait caps the wait before each retry, which is the response's
	// Retry-After, or one second without one. Default
	// [DefaultReplayMaxWait]; it must not be negative.
	MaxWait time.Duration

	// OnResult, when not nil, is called with the result of each letter as
	// soon as it is known, in order, on the goroutine that runs Replay.
	OnResult func(ReplayResult)
}

// ReplayResult is what the service answered for one dead letter.
type ReplayResult struct {
	ID       string // the notification's ID, as posted
	Status   int    // the last response's status; 0 when there was none
	Attempts int    // requests made
	Reason   string // why it was refused: the service's error message, or the network error
}

// Accepted reports whether the service answered 202.
func (r ReplayResult) Accepted() bool { return r.Status == http.StatusAccepted }

// ReplaySummary counts the results of [Replay].
type ReplaySummary struct {
	Accepted int         // answered 202
	Refused  int         // posted but not answered 202
	NotSent  int         // left when the replay stopped: the one unanswered, and those after it
	ByStatus map[int]int // refused letters by last status; 0 for no response
}

// Replay posts the notification of each letter, with its original ID, to the
// service at cfg.URL, one at a time and in order. A 503, or no response, is
// retried as [ReplayConfig.Retries] says, after the wait that Retry-After
// asks for. Any other status is final. The summary counts every letter.
//
// Replay returns an error matching [ErrReplayStopped] when ctx ends, a
// notification still had no response after its retries, or the service
// answered 401, which no later letter would escape; that letter and the ones
// after it are counted as not sent. It returns an error without posting
// anything when cfg is invalid. Replaying a letter twice posts it twice; receivers
// see the same Idempotency-Key both times.
func Replay(ctx context.Context, cfg ReplayConfig, letters []DeadLetter) (ReplaySummary, error) {
	sum := ReplaySummary{ByStatus: map[int]int{}}
	r, err := newReplayer(cfg)
	if err != nil {
		return sum, err
	}
	if cfg.Client == nil {
		defer r.client.CloseIdleConnections()
	}

	for i, l := range letters {
		res := r.post(ctx, l.Notification)
		stop := res.Status == 0 && (ctx.Err() != nil || res.Attempts > r.retries)
		if stop || res.Status == http.StatusUnauthorized {
			sum.NotSent = len(letters) - i
			return sum, fmt.Errorf("%w at %s: %s", ErrReplayStopped, res.ID, res.Reason)
		}
		if res.Accepted() {
			sum.Accepted++
		} else {
			sum.Refused++
			sum.ByStatus[res.Status]++
		}
		if cfg.OnResult != nil {
			cfg.OnResult(res)
		}
	}
	return sum, nil
}

// replayer posts notifications for [Replay].
type replayer struct {
	endpoint string
	token    string
	client   *http.Client
	retries  int
	maxWait  time.Duration
}

func newReplayer(cfg ReplayConfig) (*replayer, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.RawQuery != "" || u.Fragment != "" {
		return nil, errors.New(
			"notification: replay URL must be an absolute http or https URL without query")
	}
	if cfg.MaxWait < 0 {
		return nil, fmt.Errorf("notification: MaxWait must be >= 0, got %v", cfg.MaxWait)
	}

	r := &replayer{
		endpoint: u.JoinPath(replayPath).String(),
		token:    cfg.Token,
		client:   cfg.Client,
		retries:  cfg.Retries,
		maxWait:  cfg.MaxWait,
	}
	if r.client == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		r.client = &http.Client{Transport: t, Timeout: defaultReplayTimeout}
	}
	if r.retries == 0 {
		r.retries = DefaultReplayRetries
	}
	r.retries = max(r.retries, 0)
	if r.maxWait == 0 {
		r.maxWait = DefaultReplayMaxWait
	}
	return r, nil
}

// post posts n until it gets a final answer, runs out of retries, or ctx
// ends.
func (r *replayer) post(ctx context.Context, n Notification) ReplayResult {
	res := ReplayResult{ID: n.ID}
	body, err := json.Marshal(n)
	if err != nil {
		res.Reason = err.Error()
		return res
	}

	for {
		var wait time.Duration
		res.Attempts++
		res.Status, res.Reason, wait = r.postOnce(ctx, body)
		retry := res.Status == 0 || res.Status == http.StatusServiceUnavailable
		if !retry || res.Attempts > r.retries {
			return res
		}

		t := time.NewTimer(min(wait, r.maxWait))
		select {
		case <-ctx.Done():
			t.Stop()
			res.Status, res.Reason = 0, ctx.Err().Error()
			return res
		case <-t.C:
		}
	}
}

// postOnce makes one request. It returns the status, the reason for a
// refusal, and how long to wait before a retry.
func (r *replayer) postOnce(ctx context.Context, body []byte) (int, string, time.Duration) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.endpoint,
		bytes.NewReader(body))
	if err != nil {
		return 0, err.Error(), time.Second
	}
	req.Header.Set("Content-Type", "application/json")
	if r.token != "" {
		req.Header.Set("Authorization", "Bearer "+r.token)
	}

	resp, err := r.client.Do(req)
	if err != nil {
		return 0, replayError(err), time.Second
	}
	defer func() { _ = resp.Body.Close() }()

	var answer errorBody
	_ = json.NewDecoder(io.LimitReader(resp.Body, MaxBodyBytes)).Decode(&answer)
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, MaxBodyBytes))
	reason := answer.Error
	if reason == "" && resp.StatusCode != http.StatusAccepted {
		reason = http.StatusText(resp.StatusCode)
	}
	wait, ok := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	if !ok {
		wait = time.Second
	}
	return resp.StatusCode, reason, wait
}

// replayError describes a failed request without its URL, which
// [ReplayConfig.URL] may give with credentials.
func replayError(err error) string {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err
	}
	return err.Error()
}
