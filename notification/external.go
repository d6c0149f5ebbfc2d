package notification

import (
	"context"
	"crypto/rand"
	"errors"
)

// ErrDuplicate is returned by an [EnqueueFunc] whose queue already holds a
// notification with the same ID. [Service.NotifyWith] answers it as accepted,
// since the notification will be delivered, but counts it apart so that every
// notification counted as accepted ends in exactly one delivery result.
var ErrDuplicate = errors.New("notification: duplicate id")

// EnqueueFunc stores a valid notification, with its ID set, in a queue outside
// the service, such as a JetStream stream. It returns nil only once the queue
// holds n. An error matching [ErrQueueFull] or [ErrShuttingDown] tells the
// client to try again later.
type EnqueueFunc func(ctx context.Context, n Notification) error

// NotifyWith is [Service.Notify] for a queue outside the service: it
// validates n, gives it an ID when it has none, refuses it with
// [ErrShuttingDown] once the service drains, and then calls enq instead of
// submitting to the pool. It counts n as accepted when enq returns nil,
// and as rejected when the error of enq matches [ErrQueueFull] or
// [ErrShuttingDown]; any other error, such as a canceled ctx, is returned
// uncounted. A consumer of that queue delivers with [Service.Deliver].
func (s *Service) NotifyWith(ctx context.Context, n Notification, enq EnqueueFunc) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if err := n.Validate(); err != nil {
		s.metrics.rejected(rejectInvalid)
		return "", err
	}
	if n.ID == "" {
		n.ID = rand.Text()
	}
	if s.draining.Load() {
		s.metrics.rejected(rejectShuttingDown)
		return "", ErrShuttingDown
	}

	err := enq(ctx, n)
	switch {
	case err == nil:
		s.metrics.accepted.Inc()
		return n.ID, nil
	case errors.Is(err, ErrDuplicate):
		s.metrics.duplicates.Inc()
		return n.ID, nil
	case errors.Is(err, ErrShuttingDown):
		s.metrics.rejected(rejectShuttingDown)
	case errors.Is(err, ErrQueueFull):
		s.metrics.rejected(rejectQueueFull)
	}
	return "", err
}

// Deliver sends n once with the service's sender, for a queue outside the
// service that redelivers what is not acknowledged. It returns nil when n was
// delivered, and counts it as delivered.
//
// On failure it reports whether the queue should deliver n again later. A
// failure that may pass (any error but a [*DeliveryError] with Permanent set)
// is retried unless last is true; Deliver then records nothing, since n is
// not done with. Otherwise n is failed for good: Deliver records it as
// [Service.Notify]'s deliveries are, counted as failed, logged, and written
// to the dead-letter writer, and returns retry false. A sender that panics is
// recorded as failed before the panic goes on to the caller.
//
// The delivery runs with ctx, whose deadline bounds the sender's retries.
func (s *Service) Deliver(ctx context.Context, n Notification, last bool) (retry bool, err error) {
	returned := false
	defer func() {
		if !returned {
			s.giveUp(n, resultFailed, 0, errSenderAborted)
		}
	}()
	err = s.sender.Send(ctx, n)
	returned = true

	if err == nil {
		s.metrics.delivered(resultDelivered)
		return false, nil
	}
	attempts := 0
	de := (*DeliveryError)(nil)
	if errors.As(err, &de) {
		attempts = de.Attempts
	}
	if !last && (de == nil || !de.Permanent) {
		return true, err
	}
	s.giveUp(n, resultFailed, attempts, err)
	return false, err
}
