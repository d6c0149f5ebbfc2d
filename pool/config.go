package pool

import "fmt"

// Config sizes a [WorkerPool]. The env tags name the variables that a loader
// built on go-envconfig reads, under a prefix such as WORKER_POOL_; the pool
// itself never reads the environment.
type Config struct {
	// MaxWorkers is the number of jobs that run at once: 1 to 10000,
	// default 10.
	MaxWorkers int `env:"MAX_WORKERS, default=10"`

	// QueueSize is the number of accepted jobs that may wait for a worker:
	// 0 to 1000000, default 1000. With 0 a job is accepted only when a worker
	// is idle and takes it at once. [New] allocates the whole queue up
	// front, 64 bytes a place (64 MB at the maximum); with 0 it allocates
	// MaxWorkers places for jobs being handed over.
	QueueSize int `env:"QUEUE_SIZE, default=1000"`

	// ShutdownTimeoutSeconds bounds the drain in [WorkerPool.Shutdown]:
	// 1 to 3600, default 30.
	ShutdownTimeoutSeconds int `env:"SHUTDOWN_TIMEOUT_SECONDS, default=30"`

	// JobTimeoutSeconds is how long a job's context lives once the job
	// starts: 1 to 3600, default 30.
	JobTimeoutSeconds int `env:"JOB_TIMEOUT_SECONDS, default=30"`
}

// DefaultConfig returns the configuration used when nothing is set:
// 10 workers, a queue of 1000, and 30-second shutdown and job timeouts.
func DefaultConfig() Config {
	return Config{
		MaxWorkers:             10,
		QueueSize:              1000,
		ShutdownTimeoutSeconds: 30,
		JobTimeoutSeconds:      30,
	}
}

// Validate reports the first field of c that is out of range, as a
// [*ConfigError].
func (c Config) Validate() error {
	fields := []struct {
		name     string
		got      int
		min, max int
	}{
		{"MaxWorkers", c.MaxWorkers, 1, 10000},
		{"QueueSize", c.QueueSize, 0, 1000000},
		{"ShutdownTimeoutSeconds", c.ShutdownTimeoutSeconds, 1, 3600},
		{"JobTimeoutSeconds", c.JobTimeoutSeconds, 1, 3600},
	}
	for _, f := range fields {
		if f.got < f.min || f.got > f.max {
			return &ConfigError{Field: f.name, Min: f.min, Max: f.max, Got: f.got}
		}
	}
	return nil
}

// ConfigError reports a [Config] field outside its allowed range.
type ConfigError struct {
	Field    string // the Go name of the field, such as "MaxWorkers"
	Min, Max int    // the allowed range, inclusive
	Got      int    // the rejected value
}

// Error returns a message naming the field, the range and the value.
func (e *ConfigError) Error() string {
	return fmt.Sprintf("pool: %s", e.Rule(e.Field))
}

// Rule describes the broken rule with name standing for the field, so a
// loader can report the variable it read the value from.
func (e *ConfigError) Rule(name string) string {
	return fmt.Sprintf("%s must be between %d and %d, got %d", name, e.Min, e.Max, e.Got)
}
