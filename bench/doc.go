// Package bench compares the fxpool worker pool with a bare channel pool and
// with its peers: alitto/pond, panjf2000/ants, x/sync errgroup,
// sourcegraph/conc, and a goroutine per job. It lives in its own module so
// that the peers never enter fxpool's go.mod.
//
// The package holds only benchmarks. Each workload runs every peer behind the
// same small interface, with 10 workers and a queue of 1000 where the peer has
// those notions. See README.md for what each workload measures and run.sh for
// the full comparison.
package bench
