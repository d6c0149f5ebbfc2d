package notification

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"go.uber.org/zap"
)

// Results passed to [WebhookConfig.OnAttempt], one per HTTP attempt.
const (
	ResultSuccess   = "success"   // a 2xx response
	ResultRetryable = "retryable" // a 408, 429 or 5xx response
	ResultPermanent = "permanent" // any other response
	ResultError     = "error"     // no response: a network error or the context ended
)

// Defaults of a [WebhookConfig].
const (
	DefaultMaxConns    = 10
	DefaultBaseBackoff = 100 * time.Millisecond
	DefaultMaxBackoff  = 5 * time.Second
)

// maxDrainBytes bounds how much of a response body is read so that the
// connection can be reused. A longer body is abandoned: its connection is
// closed, which costs one dial but never blocks on a huge or endless body.
const maxDrainBytes = 64 << 10

var (
	errBadURL    = errors.New("notification: webhook URL must be an absolute http or https URL")
	errStatus    = errors.New("non-2xx response")
	errHeaderID  = errors.New("notification: id is not a valid HTTP header value")
	errNoRequest = errors.New("notification: build webhook request")
)

// WebhookConfig configures a [WebhookSender]. The zero value of every field
// but URL selects its default.
type WebhookConfig struct {
	// URL is the absolute http or https endpoint that receives each POST.
	// It is required. Its userinfo and query are never logged or returned
	// in errors.
	URL string

	// Secret, when not empty, signs each delivery: the X-Signature-256
	// header carries [Sign] of the body. Empty by default: no signature.
	Secret string

	// MaxConns is both the most connections open to the endpoint at once
	// and the number kept idle for reuse. Set it to at least the number of
	// concurrent senders (the pool's MaxWorkers) so that every worker keeps
	// a connection: beyond it, a Send waits for a free connection, bounded
	// by its context. It applies only when Client is nil. Default
	// [DefaultMaxConns]; it must not be negative.
	MaxConns int

	// Logger receives a Debug line for each attempt that is retried.
	// Default zap.NewNop().
	Logger *zap.Logger

	// OnAttempt, when not nil, is called after each HTTP attempt with one
	// of [ResultSuccess], [ResultRetryable], [ResultPermanent] or
	// [ResultError]. It is called from the goroutine that runs Send, so it
	// must be safe for concurrent use and should return quickly.
	OnAttempt func(result string)

	// Client sends the requests. Nil builds a client with its own
	// transport, cloned from http.DefaultTransport with MaxConns
	// connections, and no Timeout: the context given to Send bounds each
	// delivery. A caller's client is copied so that redirects are not
	// followed; its transport is shared, and [WebhookSender.Close] leaves it
	// alone.
	Client *http.Client

	// MaxBackoff caps the computed wait between attempts. A Retry-After
	// header from the endpoint is honoured beyond it. Default
	// [DefaultMaxBackoff]; it must not be negative.
	MaxBackoff time.Duration

	// BaseBackoff is the upper bound of the wait after the first attempt;
	// the bound doubles after each further attempt, up to MaxBackoff, and
	// the wait is drawn uniformly below it (full jitter). Default
	// [DefaultBaseBackoff]; it must not be negative.
	BaseBackoff time.Duration
}

// WebhookSender is a [Sender] that POSTs each notification as JSON to a
// webhook and retries failures that may be transient. It is safe for
// concurrent use.
//
// A delivery ends with the first 2xx response, a final response (a 3xx or a
// 4xx other than 408 and 429), or the end of the context given to Send. It
// also ends early when the next wait would pass the context's deadline.
type WebhookSender struct {
	url         string
	redacted    string // scheme://host/path, safe to log
	secret      string
	client      *http.Client
	transport   *http.Transport // built by NewWebhookSender; nil for a caller's client
	logger      *zap.Logger
	onAttempt   func(result string)
	baseBackoff time.Duration
	maxBackoff  time.Duration
}

var _ Sender = (*WebhookSender)(nil)

// NewWebhookSender returns a [WebhookSender] for cfg. It returns an error,
// which never contains the URL, when cfg.URL is not an absolute http or
// https URL with a host, or when a count or duration is negative.
func NewWebhookSender(cfg WebhookConfig) (*WebhookSender, error) {
	u, err := parseWebhookURL(cfg.URL)
	if err != nil {
		return nil, err
	}

	if err := cfg.withDefaults(); err != nil {
		return nil, err
	}

	redacted := redactURL(u)
	s := &WebhookSender{
		url:         u.String(),
		redacted:    redacted,
		secret:      cfg.Secret,
		logger:      cfg.Logger.Named("webhook").With(zap.String("url", redacted)),
		onAttempt:   cfg.OnAttempt,
		baseBackoff: cfg.BaseBackoff,
		maxBackoff:  cfg.MaxBackoff,
	}
	s.client, s.transport = newClient(cfg.Client, cfg.MaxConns)
	return s, nil
}

func parseWebhookURL(raw string) (*url.URL, error) {
	// The parse error is dropped because it quotes the URL.
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return nil, errBadURL
	}
	return u, nil
}

// withDefaults checks c and fills its zero fields with their defaults.
func (c *WebhookConfig) withDefaults() error {
	switch {
	case c.MaxConns < 0:
		return fmt.Errorf("notification: MaxConns must be >= 0, got %d", c.MaxConns)
	case c.BaseBackoff < 0:
		return fmt.Errorf("notification: BaseBackoff must be >= 0, got %v", c.BaseBackoff)
	case c.MaxBackoff < 0:
		return fmt.Errorf("notification: MaxBackoff must be >= 0, got %v", c.MaxBackoff)
	}

	if c.MaxConns == 0 {
		c.MaxConns = DefaultMaxConns
	}
	if c.BaseBackoff == 0 {
		c.BaseBackoff = DefaultBaseBackoff
	}
	if c.MaxBackoff == 0 {
		c.MaxBackoff = DefaultMaxBackoff
	}
	if c.Logger == nil {
		c.Logger = zap.NewNop()
	}
	return nil
}

// newClient returns the client to send with, and the transport it built, if
// any. A 3xx must be final, so redirects are never followed. Capping open
// connections at the idle limit means a connection is closed only when it
// breaks, never because the idle pool overflowed after a burst of dials.
func newClient(c *http.Client, maxConns int) (*http.Client, *http.Transport) {
	noRedirect := func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if c != nil {
		cp := *c
		cp.CheckRedirect = noRedirect
		return &cp, nil
	}

	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = maxConns
	t.MaxIdleConnsPerHost = maxConns
	t.MaxConnsPerHost = maxConns
	return &http.Client{Transport: t, CheckRedirect: noRedirect}, t
}

// redactURL returns u without its userinfo, query and fragment.
func redactURL(u *url.URL) string {
	r := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}
	return r.String()
}

// RedactURL returns raw without its userinfo, query and fragment, so that it
// can be logged: "" for "", and "(unparsable)" when raw is not a URL.
func RedactURL(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable)"
	}
	return redactURL(u)
}

// Sign returns the X-Signature-256 value for body: "sha256=" followed by the
// lowercase hex HMAC-SHA256 of body keyed with secret. Receivers compare it
// with hmac.Equal.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Close closes the idle connections of the transport that
// [NewWebhookSender] built. It does nothing for a caller's Client. Sends
// after Close still work; they dial again.
func (s *WebhookSender) Close() {
	if s.transport != nil {
		s.transport.CloseIdleConnections()
	}
}

// outcome is what one HTTP attempt produced.
type outcome struct {
	result     string
	status     int           // 0 when there was no response
	retryAfter time.Duration // from the Retry-After header; valid when hasRetry
	hasRetry   bool          // the response had a usable Retry-After
	err        error
}

// Send delivers n, retrying as described on [WebhookSender]. It returns nil
// on a 2xx response and a [*DeliveryError] otherwise: Permanent for a final
// response, and wrapping ctx.Err() when ctx ended or its deadline left no
// time for the next attempt.
func (s *WebhookSender) Send(ctx context.Context, n Notification) error {
	body, err := encode(n)
	if err != nil {
		return &DeliveryError{Permanent: true, Err: err}
	}

	var last outcome
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return &DeliveryError{
				Attempts:   attempt - 1,
				StatusCode: last.status,
				Err:        ctxError(err, last.err),
			}
		}

		last = s.post(ctx, n.ID, body)
		if s.onAttempt != nil {
			s.onAttempt(last.result)
		}

		switch last.result {
		case ResultSuccess:
			return nil
		case ResultPermanent:
			return &DeliveryError{
				Attempts:   attempt,
				StatusCode: last.status,
				Permanent:  true,
				Err:        last.err,
			}
		}

		if err := s.wait(ctx, n.ID, attempt, last); err != nil {
			return &DeliveryError{Attempts: attempt, StatusCode: last.status, Err: err}
		}
	}
}

// encode returns the JSON body of n, or an error if n cannot be sent.
func encode(n Notification) ([]byte, error) {
	if !validHeaderValue(n.ID) {
		return nil, errHeaderID
	}

	body, err := json.Marshal(n)
	if err != nil {
		return nil, fmt.Errorf("encode notification: %w", err)
	}
	return body, nil
}

// validHeaderValue reports whether v can be sent as a header value. The
// transport rejects other values before dialing, and retrying cannot help.
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if b := v[i]; (b < ' ' && b != '\t') || b == 0x7f {
			return false
		}
	}
	return true
}

// post makes one HTTP attempt and classifies its result.
func (s *WebhookSender) post(ctx context.Context, id string, body []byte) outcome {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(body))
	if err != nil {
		return outcome{result: ResultPermanent, err: errNoRequest}
	}

	req.Header.Set("Content-Type", "application/json")
	if id != "" {
		req.Header.Set("Idempotency-Key", id)
	}
	if s.secret != "" {
		req.Header.Set("X-Signature-256", Sign(s.secret, body))
	}

	resp, err := s.client.Do(req)
	if err != nil {
		return outcome{result: ResultError, err: s.redactError(err)}
	}

	// Reading to EOF before closing returns the connection to the pool.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxDrainBytes))
	_ = resp.Body.Close()
	return classify(resp)
}

// redactError replaces the *url.Error of a failed request, whose message
// quotes the URL with its query, by one that names only the redacted URL.
func (s *WebhookSender) redactError(err error) error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err
	}
	return fmt.Errorf("post %s: %w", s.redacted, err)
}

// classify returns the outcome of a response whose body is closed.
func classify(resp *http.Response) outcome {
	code := resp.StatusCode
	switch {
	case code >= 200 && code < 300:
		return outcome{result: ResultSuccess, status: code}
	case code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500:
		o := outcome{result: ResultRetryable, status: code, err: errStatus}
		o.retryAfter, o.hasRetry = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
		return o
	default:
		return outcome{result: ResultPermanent, status: code, err: errStatus}
	}
}

// parseRetryAfter returns the wait that a Retry-After value asks for, in
// delay-seconds or as an HTTP-date, and whether the value was usable. A date
// in the past means no wait.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}

	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		return time.Duration(min(secs, math.MaxInt64/int64(time.Second))) * time.Second, true
	}

	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}

// wait blocks before the attempt after last. It returns an error wrapping
// ctx.Err() if ctx ends first, and one wrapping context.DeadlineExceeded
// without waiting if the wait would end past ctx's deadline.
func (s *WebhookSender) wait(ctx context.Context, id string, attempt int, last outcome) error {
	if err := ctx.Err(); err != nil {
		return ctxError(err, last.err)
	}

	d := s.backoff(attempt)
	if last.hasRetry {
		d = last.retryAfter
	}

	if dl, ok := ctx.Deadline(); ok && time.Now().Add(d).After(dl) {
		return fmt.Errorf("%w before next attempt: %w", context.DeadlineExceeded, last.err)
	}

	s.logger.Debug("retrying delivery",
		zap.String("id", id),
		zap.Int("attempt", attempt),
		zap.Int("status", last.status),
		zap.String("result", last.result),
		zap.Duration("retry_in", d),
		zap.Error(last.err),
	)

	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctxError(ctx.Err(), last.err)
	case <-t.C:
		return nil
	}
}

// backoff returns the jittered wait after the given attempt: uniform in
// [0, min(BaseBackoff<<(attempt-1), MaxBackoff)].
func (s *WebhookSender) backoff(attempt int) time.Duration {
	limit := s.maxBackoff
	if shift := attempt - 1; shift < 63 && s.baseBackoff <= s.maxBackoff>>shift {
		limit = s.baseBackoff << shift
	}
	return rand.N(limit + 1)
}

// ctxError returns an error that wraps both the context's error and the
// last cause, without repeating the context's error when last wraps it.
func ctxError(ctxErr, last error) error {
	if last == nil {
		return ctxErr
	}
	if errors.Is(last, ctxErr) {
		return last
	}
	return fmt.Errorf("%w; last error: %w", ctxErr, last)
}
