// Package pool runs jobs on a bounded set of worker goroutines fed by a
// bounded queue. Submitting never blocks: when the queue is full the new job
// is refused and counted. Each job runs with its own timeout, a panic in a job
// is recovered and counted, and shutdown drains the queue within a deadline
// and accounts for every job it could not run. The package knows nothing of
// dependency injection or the environment; the caller supplies the
// configuration, logger and metrics registerer.
//
// # Usage
//
// Create a pool with [New], start it, and submit [Job] values:
//
//	p, err := pool.New(pool.DefaultConfig(),
//		pool.WithLogger(logger),
//		pool.WithRegisterer(registry),
//		pool.WithName("mail"),
//	)
//	if err != nil {
//		return err
//	}
//	p.Start()
//	if !p.Submit(pool.Job{Name: "welcome", Execute: sendWelcome}) {
//		// The queue is full or the pool is stopping: shed the load.
//	}
//
// [WorkerPool.SubmitWait] waits for room instead of refusing.
//
// # Shutdown
//
// [WorkerPool.Shutdown] stops intake at once, then lets queued and running
// jobs finish with live contexts. If the earlier of its ctx and
// ShutdownTimeoutSeconds passes first, it cancels the job contexts, starts no
// further queued job, and returns an error that matches the cause and counts
// the jobs still running and the queued jobs that never ran. Those jobs are
// counted as dropped with reason shutdown and passed to the handler set by
// [WithDropHandler]. A pool is single-use.
//
// # Metrics
//
// With [WithRegisterer] the pool registers these families, prefixed with
// "<name>_worker_pool_" under [WithName] or "worker_pool_" without it:
//
//	queue_depth            gauge      jobs waiting
//	queue_capacity         gauge      the configured queue size
//	active_workers         gauge      jobs running now
//	max_workers            gauge      the configured worker count
//	submitted_jobs_total   counter    jobs accepted into the queue
//	completed_jobs_total   counter    jobs that finished, whatever the result
//	dropped_jobs_total     counter    jobs not run, by reason:
//	                                  queue_full, not_running, shutdown
//	errors_total           counter    jobs that failed, panicked, exited or timed out
//	job_duration_seconds   histogram  run time of a job
//	queue_wait_seconds     histogram  time a job waited in the queue
//
// Every call to Submit is counted once, as submitted or as dropped with reason
// queue_full or not_running. Every submitted job ends as completed or as
// dropped with reason shutdown. errors_total counts a subset of the completed
// jobs, and the duration histogram's count equals completed_jobs_total. Job
// names never become labels. With QueueSize 0, queue_depth counts jobs being
// handed to a worker, so it can briefly exceed queue_capacity.
package pool
