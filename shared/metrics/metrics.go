// Package metrics builds each daemon's Prometheus registry and handler.
//
// Packages register their own collectors (one metrics.go per package,
// Namespace "sealgate", Subsystem the package) on the registry they are
// given, never on a global, so both daemons can run in one test process.
package metrics

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"sealgate/shared/buildinfo"
)

// Namespace prefixes every Sealgate metric.
const Namespace = "sealgate"

// NewRegistry returns a registry with the Go runtime, process and module
// build collectors, and sealgate_build_info{daemon,version,goversion} = 1.
func NewRegistry(daemon string) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewBuildInfoCollector(),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace:   Namespace,
			Name:        "build_info",
			Help:        "Sealgate release of this daemon; always 1.",
			ConstLabels: prometheus.Labels{"daemon": daemon, "version": buildinfo.Version, "goversion": buildinfo.GoVersion()},
		}, func() float64 { return 1 }),
	)
	return reg
}

// Handler serves reg in the Prometheus text format at /metrics, on the
// metrics listener only (kept off the console/portal address).
func Handler(reg *prometheus.Registry) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg, EnableOpenMetrics: false}))
	return mux
}
