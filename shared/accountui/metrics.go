package accountui

import (
	"github.com/prometheus/client_golang/prometheus"

	"sealgate/shared/metrics"
)

// signInMetrics counts sign-in steps by outcome, so a security team sees
// guessing (failures, lockouts, rate limits) beside the sign-ins that
// completed. Nil-safe: a UI built without a registry counts nothing.
type signInMetrics struct {
	steps *prometheus.CounterVec
}

// Outcomes of a sign-in step.
const (
	signInOK          = "ok"           // the session reached full sign-in
	signInBadPassword = "bad_password" // wrong username or password
	signInBadCode     = "bad_code"     // wrong TOTP or recovery code
	signInLocked      = "locked"       // the account is locked out
	signInLimited     = "rate_limited" // the address or account is out of steps
)

func newSignInMetrics(reg prometheus.Registerer) *signInMetrics {
	if reg == nil {
		return nil
	}
	m := &signInMetrics{steps: prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: metrics.Namespace, Subsystem: "accountui", Name: "signin_steps_total",
		Help: "Sign-in steps by outcome: ok (signed in fully), bad_password, bad_code, locked, rate_limited.",
	}, []string{"outcome"})}
	for _, o := range []string{signInOK, signInBadPassword, signInBadCode, signInLocked, signInLimited} {
		m.steps.WithLabelValues(o) // present at zero before the first sign-in
	}
	reg.MustRegister(m.steps)
	return m
}

func (m *signInMetrics) count(outcome string) {
	if m != nil {
		m.steps.WithLabelValues(outcome).Inc()
	}
}
