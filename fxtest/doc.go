// Package fxtest makes tests of fx applications built from the fxpool modules
// short. [New] assembles the notifier's modules around a test logger, a fresh
// metrics registry, a small pool and an HTTP server on a free loopback port;
// [Sender] records deliveries and can be told to fail or to hold them.
//
// # Usage
//
//	sender := fxtest.NewSender()
//	var svc *notification.Service
//	app := fxtest.New(t, fxtest.WithSender(sender), fx.Populate(&svc))
//	app.RequireStart()
//	svc.Notify(ctx, notification.Notification{Recipient: "r", Body: "b"})
//	sender.WaitSent(t, 1)
//	app.RequireStop()
package fxtest
