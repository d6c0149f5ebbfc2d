package notification

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Limits on the fields of a [Notification].
const (
	MaxIDLength        = 128
	MaxRecipientLength = 512
	MaxSubjectLength   = 1024
	MaxMetadataEntries = 32
)

var idPattern = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

// Notification is one message to deliver. Its JSON form is both the HTTP API's
// request body and the body of a webhook delivery.
type Notification struct {
	ID        string            `json:"id"`
	Recipient string            `json:"recipient"`
	Subject   string            `json:"subject,omitempty"`
	Body      string            `json:"body"`
	Metadata  map[string]string `json:"metadata,omitempty"`
}

// ErrInvalid is matched by every error that [Notification.Validate] returns.
var ErrInvalid = errors.New("notification: invalid")

// FieldError reports a field of a [Notification] that breaks a rule.
type FieldError struct {
	Field string // JSON name of the field
	Rule  string // what the field must be
}

// Error returns a message that names the field and the rule.
func (e *FieldError) Error() string {
	return fmt.Sprintf("%s %s", e.Field, e.Rule)
}

// Is reports whether target is [ErrInvalid].
func (e *FieldError) Is(target error) bool { return target == ErrInvalid }

// Validate checks n against the rules of the HTTP API. An empty ID is valid:
// the service generates one. The error is a [*FieldError] naming the field.
func (n Notification) Validate() error {
	switch {
	case n.ID != "" && !idPattern.MatchString(n.ID):
		return &FieldError{"id", "must be 1 to 128 of A-Za-z0-9._:-"}
	case strings.TrimSpace(n.Recipient) == "":
		return &FieldError{"recipient", "is required"}
	case len(n.Recipient) > MaxRecipientLength || !utf8.ValidString(n.Recipient):
		return &FieldError{
			"recipient",
			fmt.Sprintf("must be valid UTF-8 of at most %d bytes", MaxRecipientLength),
		}
	case len(n.Subject) > MaxSubjectLength || !utf8.ValidString(n.Subject):
		return &FieldError{
			"subject",
			fmt.Sprintf("must be valid UTF-8 of at most %d bytes", MaxSubjectLength),
		}
	case n.Body == "":
		return &FieldError{"body", "is required"}
	case !utf8.ValidString(n.Body):
		return &FieldError{"body", "must be valid UTF-8"}
	case len(n.Metadata) > MaxMetadataEntries:
		return &FieldError{"metadata", fmt.Sprintf("must have at most %d entries", MaxMetadataEntries)}
	}
	return nil
}

// Sender delivers one notification. Implementations must be safe for
// concurrent use and must return once ctx is done. A failure that retrying
// cannot fix is reported as a [*DeliveryError] with Permanent set.
type Sender interface {
	Send(ctx context.Context, n Notification) error
}

// DeliveryError describes a delivery that did not succeed.
type DeliveryError struct {
	Attempts   int   // HTTP requests made, including the last
	StatusCode int   // status of the last response; 0 when there was none
	Permanent  bool  // retrying will not help (a final 3xx or 4xx)
	Err        error // the last cause
}

// Error returns a message with the attempts, the last status and the cause.
func (e *DeliveryError) Error() string {
	if e.StatusCode != 0 {
		return fmt.Sprintf("deliver: %d attempts, last status %d: %v", e.Attempts, e.StatusCode, e.Err)
	}
	return fmt.Sprintf("deliver: %d attempts: %v", e.Attempts, e.Err)
}

// Unwrap returns the last cause.
func (e *DeliveryError) Unwrap() error { return e.Err }
