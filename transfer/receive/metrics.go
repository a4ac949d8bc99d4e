package receive

import (
	"github.com/prometheus/client_golang/prometheus"

	sgmetrics "sealgate/shared/metrics"
	"sealgate/transfer"
)

// metrics are per paired inner appliance (label peer), so a regional hub
// sees each city's link on its own.
type metrics struct {
	bytes       *prometheus.CounterVec
	packages    *prometheus.CounterVec
	refusals    *prometheus.CounterVec
	resumes     *prometheus.CounterVec
	lastContact *prometheus.GaugeVec
	queries     *prometheus.CounterVec
	connections *prometheus.GaugeVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	o := func(name, help string) prometheus.Opts {
		return prometheus.Opts{Namespace: sgmetrics.Namespace, Subsystem: "receive", Name: name, Help: help}
	}
	m := &metrics{
		bytes:       prometheus.NewCounterVec(prometheus.CounterOpts(o("bytes_total", "Package bytes received.")), []string{"peer"}),
		packages:    prometheus.NewCounterVec(prometheus.CounterOpts(o("packages_total", "Packages stored.")), []string{"peer"}),
		refusals:    prometheus.NewCounterVec(prometheus.CounterOpts(o("refusals_total", "Packages refused, by reason.")), []string{"peer", "reason"}),
		resumes:     prometheus.NewCounterVec(prometheus.CounterOpts(o("resumes_total", "Offers resumed from a partial package.")), []string{"peer"}),
		lastContact: prometheus.NewGaugeVec(prometheus.GaugeOpts(o("last_contact_timestamp_seconds", "When the inner appliance last connected or offered.")), []string{"peer"}),
		queries: prometheus.NewCounterVec(prometheus.CounterOpts(o("status_queries_total",
			"Status queries answered, by the state answered (held, destroyed, unknown; unavailable: not answered).")), []string{"peer", "state"}),
		connections: prometheus.NewGaugeVec(prometheus.GaugeOpts(o("connections", "Live QUIC connections from each inner appliance.")), []string{"peer"}),
	}
	if reg != nil {
		reg.MustRegister(m.bytes, m.packages, m.refusals, m.resumes, m.lastContact, m.queries, m.connections)
	}
	return m
}

// peer exports a paired peer's counters at zero before its first package,
// so a rate or an alert over them has a series from the start.
func (m *metrics) peer(name string) {
	m.bytes.WithLabelValues(name)
	m.packages.WithLabelValues(name)
	m.resumes.WithLabelValues(name)
	m.connections.WithLabelValues(name)
	for r := transfer.ReasonBadPackage; r.String() != ""; r++ {
		m.refusals.WithLabelValues(name, r.String())
	}
}

// connected records a peer's new connection: a contact, and one more live.
func (m *metrics) connected(peer string) {
	m.lastContact.WithLabelValues(peer).SetToCurrentTime()
	m.connections.WithLabelValues(peer).Inc()
}
