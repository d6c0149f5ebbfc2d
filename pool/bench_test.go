package pool

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func benchPool(b *testing.B, cfg Config) *WorkerPool {
	b.Helper()
	p, err := New(cfg, WithRegisterer(prometheus.NewRegistry()))
	if err != nil {
		b.Fatalf("New() error = %v", err)
	}
	return p
}

// BenchmarkSubmit measures submitting and running an empty job, from one and
// from several producers, with every metric on.
func BenchmarkSubmit(b *testing.B) {
	for _, producers := range []int{1, 8} {
		b.Run(fmt.Sprintf("producers=%d", producers), func(b *testing.B) {
			p := benchPool(b, Config{10, 1000, 30, 30})
			p.Start()
			var wg sync.WaitGroup
			job := Job{Name: "empty", Execute: func(context.Context) error {
				wg.Done()
				return nil
			}}
			b.ReportAllocs()
			b.SetParallelism(producers)
			b.ResetTimer()

			// The job count is known only inside RunParallel, so each
			// submitter adds to wg before it submits.
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					wg.Add(1)
					for !p.Submit(job) {
						// The queue is full: let the workers catch up.
						runtime.Gosched()
					}
				}
			})
			wg.Wait()
			b.StopTimer()
			_ = p.Shutdown(context.Background())
		})
	}
}

// BenchmarkSubmitFull measures the drop path: Submit on a full queue.
func BenchmarkSubmitFull(b *testing.B) {
	for _, producers := range []int{1, 8} {
		b.Run(fmt.Sprintf("producers=%d", producers), func(b *testing.B) {
			p := benchPool(b, Config{1, 1, 30, 30})
			release := make(chan struct{})
			started := make(chan struct{})
			p.Start()
			p.Submit(Job{Execute: func(context.Context) error {
				close(started)
				<-release
				return nil
			}})
			<-started
			p.Submit(Job{Execute: func(context.Context) error { return nil }})

			b.ReportAllocs()
			b.SetParallelism(producers)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if p.Submit(Job{}) {
						b.Error("Submit() on a full queue = true")
					}
				}
			})
			b.StopTimer()
			close(release)
			_ = p.Shutdown(context.Background())
		})
	}
}

// BenchmarkShutdown measures Shutdown of a pool holding 1000 queued empty
// jobs behind one running job.
func BenchmarkShutdown(b *testing.B) {
	b.ReportAllocs()
	job := Job{Execute: func(context.Context) error { return nil }}
	for b.Loop() {
		b.StopTimer()
		p := benchPool(b, Config{10, 1000, 30, 30})
		for range 1000 {
			p.queue.push(func() item { return item{job: job} })
		}
		p.Start()
		b.StartTimer()

		if err := p.Shutdown(context.Background()); err != nil {
			b.Fatalf("Shutdown() = %v", err)
		}
	}
}
