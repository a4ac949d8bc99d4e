package send

import (
	"github.com/prometheus/client_golang/prometheus"

	sgmetrics "sealgate/shared/metrics"
	"sealgate/transfer"
)

type metrics struct {
	bytes       prometheus.Counter
	packages    *prometheus.CounterVec
	refusals    *prometheus.CounterVec
	retries     prometheus.Counter
	resumes     prometheus.Counter
	duration    prometheus.Histogram
	lastContact prometheus.Gauge
	connections prometheus.Gauge
	queries     *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	o := func(name, help string) prometheus.Opts {
		return prometheus.Opts{Namespace: sgmetrics.Namespace, Subsystem: "send", Name: name, Help: help}
	}
	m := &metrics{
		bytes:    prometheus.NewCounter(prometheus.CounterOpts(o("bytes_total", "Package bytes sent to the outer appliance."))),
		packages: prometheus.NewCounterVec(prometheus.CounterOpts(o("packages_total", "Packages delivered, by outcome (stored, already).")), []string{"outcome"}),
		refusals: prometheus.NewCounterVec(prometheus.CounterOpts(o("refusals_total", "Packages the outer refused, by reason.")), []string{"reason"}),
		retries:  prometheus.NewCounter(prometheus.CounterOpts(o("retries_total", "Lanes and packages sent again after a failed or stalled connection."))),
		resumes:  prometheus.NewCounter(prometheus.CounterOpts(o("resumes_total", "Deliveries that resumed a partly sent package."))),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: sgmetrics.Namespace, Subsystem: "send", Name: "duration_seconds",
			Help: "Time to deliver a package, receipt included.", Buckets: prometheus.ExponentialBuckets(0.05, 2, 16)}),
		lastContact: prometheus.NewGauge(prometheus.GaugeOpts(o("last_contact_timestamp_seconds", "When the outer appliance last answered."))),
		connections: prometheus.NewGauge(prometheus.GaugeOpts(o("connections", "Live QUIC connections to the outer appliance."))),
		queries: prometheus.NewCounterVec(prometheus.CounterOpts(o("status_queries_total",
			"Status queries about delivered packages, by answer (held, destroyed, unknown; failed: no answer).")), []string{"answer"}),
	}
	// At zero from the start, so a rate or an alert over them has a series.
	for r := transfer.ReasonBadPackage; r.String() != ""; r++ {
		m.refusals.WithLabelValues(r.String())
	}
	for _, o := range []string{"stored", "already"} {
		m.packages.WithLabelValues(o)
	}
	if reg != nil {
		reg.MustRegister(m.bytes, m.packages, m.refusals, m.retries, m.resumes, m.duration, m.lastContact, m.connections, m.queries)
	}
	return m
}
