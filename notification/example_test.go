package notification_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"go.uber.org/zap"

	"github.com/fxpool/fxpool/notification"
	"github.com/fxpool/fxpool/pool"
)

func ExampleService_Notify() {
	p, err := pool.New(pool.DefaultConfig())
	if err != nil {
		fmt.Println(err)
		return
	}
	p.Start()

	svc, err := notification.NewService(notification.ServiceConfig{
		Pool:   p,
		Sender: notification.NewLogSender(zap.NewNop()),
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	// Bad input is refused at once; the error names the field.
	ctx := context.Background()
	_, err = svc.Notify(ctx, notification.Notification{Recipient: "ops@example.com"})
	fmt.Println(err, errors.Is(err, notification.ErrInvalid))

	// A valid notification is queued; its ID is generated when absent.
	id, err := svc.Notify(ctx, notification.Notification{
		Recipient: "ops@example.com",
		Body:      "disk almost full",
	})
	fmt.Println("accepted:", id != "", err)

	// Drain delivers what is queued, then intake stays closed.
	fmt.Println("drained:", svc.Drain(ctx))
	_, err = svc.Notify(ctx, notification.Notification{Recipient: "ops@example.com", Body: "late"})
	fmt.Println(err)
	// Output:
	// body is required true
	// accepted: true <nil>
	// drained: <nil>
	// notification: shutting down
}

func ExampleNewHandler() {
	p, err := pool.New(pool.DefaultConfig())
	if err != nil {
		fmt.Println(err)
		return
	}
	p.Start()

	svc, err := notification.NewService(notification.ServiceConfig{
		Pool:   p,
		Sender: notification.NewLogSender(zap.NewNop()),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	h := notification.NewHandler(svc, notification.HandlerConfig{})

	ctx := context.Background()
	for _, body := range []string{
		`{"recipient":"ops@example.com"}`,
		`{"id":"disk-1","recipient":"ops@example.com","body":"disk almost full"}`,
	} {
		r := strings.NewReader(body)
		req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/v1/notifications", r)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		fmt.Print(rec.Code, " ", rec.Body.String())
	}

	_ = svc.Drain(ctx)
	// Output:
	// 400 {"error":"body is required"}
	// 202 {"id":"disk-1"}
}
