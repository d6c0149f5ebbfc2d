package modules

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"
)

// LoggingConfig configures [Logging]. It is read from NOTIFIER_LOG_LEVEL.
type LoggingConfig struct {
	// Level is the lowest level logged: debug, info, warn or error.
	// Default info.
	Level string `env:"LOG_LEVEL, default=info"`
}

var logLevels = []string{"debug", "info", "warn", "error"}

// Validate reports a level that is not one of debug, info, warn or error.
func (c LoggingConfig) Validate() error {
	if !slices.Contains(logLevels, c.Level) {
		return &fieldError{"Level", fmt.Sprintf("must be one of %s, got %q",
			strings.Join(logLevels, ", "), c.Level)}
	}
	return nil
}

// HTTPConfig configures [HTTP]. It is read from variables prefixed NOTIFIER_.
type HTTPConfig struct {
	// Addr is the listen address, host:port. Default ":8080".
	Addr string `env:"HTTP_ADDR, default=:8080"`

	// APIToken, when set, is required as "Authorization: Bearer <token>"
	// on POST requests. Default empty: no authentication.
	APIToken string `env:"API_TOKEN"`

	// ReadHeaderTimeout bounds the time a client may take to send a
	// request's headers; a slower client is disconnected without an answer.
	// It is not read from the environment. Zero selects 5 seconds.
	ReadHeaderTimeout time.Duration
}

// Validate reports an address that is not host:port with a port from 0 to
// 65535; the port may be empty, which means 0. Service names such as "http"
// are not accepted.
func (c HTTPConfig) Validate() error {
	_, port, err := net.SplitHostPort(c.Addr)
	if err == nil && port != "" {
		_, err = strconv.ParseUint(port, 10, 16)
	}
	if err != nil {
		return &fieldError{"Addr", fmt.Sprintf("must be host:port with a port from 0 to 65535, "+
			"got %q", c.Addr)}
	}
	return nil
}

// NotificationConfig configures [Notification]. It is read from variables
// prefixed NOTIFIER_.
type NotificationConfig struct {
	// WebhookURL receives each notification as an HTTP POST. Default empty:
	// notifications are logged instead.
	WebhookURL string `env:"WEBHOOK_URL"`

	// WebhookSecret, when set, signs each delivery. Default empty.
	WebhookSecret string `env:"WEBHOOK_SECRET"`

	// DeadLetterPath, when set, is the file that receives notifications that
	// were accepted but will not be delivered, one JSON object a line.
	// Default empty: such notifications are only logged.
	DeadLetterPath string `env:"DEADLETTER_PATH"`

	// Queue selects where accepted notifications wait: "memory", the pool's
	// queue, or "nats", a JetStream stream shared by every replica (see
	// [JetStream]). Default "memory".
	Queue string `env:"QUEUE, default=memory"`
}

// Validate reports an unusable webhook URL or queue. The URL itself is never
// part of the error, since it may hold credentials.
func (c NotificationConfig) Validate() error {
	if c.WebhookURL != "" {
		u, err := url.Parse(c.WebhookURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
			return &fieldError{"WebhookURL", "must be an absolute http or https URL"}
		}
	}
	if c.WebhookURL != "" && !validPort(c.WebhookURL) {
		return &fieldError{"WebhookURL", "must have a port between 1 and 65535, or none"}
	}
	if c.Queue != QueueMemory && c.Queue != QueueNATS {
		return &fieldError{"Queue", fmt.Sprintf("must be memory or nats, got %q", c.Queue)}
	}
	return nil
}

// secret logs whether a secret is set without showing it.
func secret(key, value string) zap.Field {
	if value == "" {
		return zap.String(key, "")
	}
	return zap.String(key, "(set)")
}

// validPort reports whether raw, a parsed URL, has no port or one in range.
func validPort(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	p := u.Port()
	if p == "" {
		return true
	}
	n, err := strconv.Atoi(p)
	return err == nil && n >= 1 && n <= 65535
}
