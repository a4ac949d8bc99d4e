package officers

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	sgmetrics "sealgate/shared/metrics"
)

// Outcomes of registrations, the label of the registrations counter: a
// duplicate is a submission whose badge or e-mail was already pending or an
// officer's (the visitor is told the same as for one received).
const (
	OutcomeRequested = "requested"
	OutcomeDuplicate = "duplicate"
	OutcomeApproved  = "approved"
	OutcomeRefused   = "refused"
	OutcomeExpired   = "expired"
)

type metrics struct{ registrations *prometheus.CounterVec }

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{registrations: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: sgmetrics.Namespace, Subsystem: "officers",
		Name: "registrations_total", Help: "Officer self-registrations, by outcome."}, []string{"outcome"})}
	for _, o := range []string{OutcomeRequested, OutcomeDuplicate, OutcomeApproved, OutcomeRefused, OutcomeExpired} {
		m.registrations.WithLabelValues(o) // shown at 0 from the start
	}
	if reg != nil {
		if err := reg.Register(m.registrations); err != nil {
			return nil, fmt.Errorf("officers: register metrics: %w", err)
		}
	}
	return m, nil
}

func (m *metrics) count(outcome string, n int) {
	m.registrations.WithLabelValues(outcome).Add(float64(n))
}
