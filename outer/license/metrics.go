package license

import (
	"github.com/prometheus/client_golang/prometheus"

	sgmetrics "sealgate/shared/metrics"
)

// results are every value of the result label, exported from the start so
// an alert on refusals has a series before the first one.
var results = []string{"released", "not_found", "destroyed", "outside_window", "play_limit", "bad_key", "error"}

type metrics struct {
	requests *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{requests: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: sgmetrics.Namespace, Subsystem: "license",
		Name: "requests_total", Help: "License requests of the browser player, by result: released, or the reason of the refusal."}, []string{"result"})}
	for _, r := range results {
		m.requests.WithLabelValues(r)
	}
	if reg != nil {
		reg.MustRegister(m.requests)
	}
	return m
}
