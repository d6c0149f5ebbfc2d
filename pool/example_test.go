package pool_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/fxpool/fxpool/pool"
)

func ExampleNew() {
	cfg := pool.DefaultConfig()
	cfg.MaxWorkers = 4

	p, err := pool.New(cfg, pool.WithName("mail"))
	if err != nil {
		fmt.Println(err)
		return
	}
	p.Start()
	fmt.Println(p.IsRunning())

	if err := p.Shutdown(context.Background()); err != nil {
		fmt.Println(err)
	}
	// Output: true
}

func ExampleNew_invalidConfig() {
	cfg := pool.DefaultConfig()
	cfg.MaxWorkers = 0

	_, err := pool.New(cfg)
	fmt.Println(err)
	// Output: pool: MaxWorkers must be between 1 and 10000, got 0
}

func ExampleWorkerPool_Submit() {
	p, _ := pool.New(pool.DefaultConfig())
	p.Start()

	done := make(chan string, 1)
	ok := p.Submit(pool.Job{
		Name: "greet",
		Execute: func(ctx context.Context) error {
			done <- "hello from a worker"
			return nil
		},
	})
	fmt.Println(ok, <-done)

	_ = p.Shutdown(context.Background())
	fmt.Println(p.Submit(pool.Job{Name: "late"}))
	// Output:
	// true hello from a worker
	// false
}

func ExampleWorkerPool_Shutdown() {
	cfg := pool.DefaultConfig()
	cfg.MaxWorkers = 1
	p, _ := pool.New(cfg)
	p.Start()

	for i := range 3 {
		p.Submit(pool.Job{Name: "count", Execute: func(context.Context) error {
			fmt.Println("job", i)
			return nil
		}})
	}

	// Queued jobs still run: Shutdown waits for them, up to its deadline.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := p.Shutdown(ctx)
	fmt.Println(err, errors.Is(err, context.DeadlineExceeded))
	// Output:
	// job 0
	// job 1
	// job 2
	// <nil> false
}
