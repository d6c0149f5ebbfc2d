package modules

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.uber.org/fx"
)

// Metrics provides a fresh *prometheus.Registry, also as
// prometheus.Registerer and prometheus.Gatherer, with the Go runtime and
// process collectors registered. Nothing uses the default registry.
var Metrics = fx.Module("metrics",
	fx.Provide(newRegistry),
)

type registryResult struct {
	fx.Out

	Registry   *prometheus.Registry
	Registerer prometheus.Registerer
	Gatherer   prometheus.Gatherer
}

func newRegistry() (registryResult, error) {
	r := prometheus.NewRegistry()
	for _, c := range []prometheus.Collector{
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	} {
		if err := r.Register(c); err != nil {
			return registryResult{}, err
		}
	}
	return registryResult{Registry: r, Registerer: r, Gatherer: r}, nil
}
