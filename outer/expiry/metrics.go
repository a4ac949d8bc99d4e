package expiry

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"

	"sealgate/outer/pkgstore"
	sgmetrics "sealgate/shared/metrics"
)

// Register counts on reg the packages this sweeper destroys, by cause
// (expired, revoked: through [Sweeper.Revoke]), and reports the packages
// overdue for destruction. Without it nothing is counted; call it before
// Run.
func (s *Sweeper) Register(reg prometheus.Registerer) error {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: sgmetrics.Namespace, Subsystem: "expiry", Name: "destroyed_total",
		Help: "Packages destroyed, by cause: the viewing period ended (expired) or an admin revoked them."}, []string{"cause"})
	if err := reg.Register(c); err != nil {
		return err
	}
	if err := reg.Register(overdueCollector{s}); err != nil {
		return err
	}
	c.WithLabelValues("expired")
	c.WithLabelValues("revoked")
	s.destroyed = c
	return nil
}

func (s *Sweeper) count(cause string) {
	if s.destroyed != nil {
		s.destroyed.WithLabelValues(cause).Inc()
	}
}

// Revoke is [Revoke] on the sweeper's store, counted.
func (s *Sweeper) Revoke(ctx context.Context, admin, id, why string) (*pkgstore.Package, error) {
	p, err := Revoke(ctx, s.store, admin, id, why)
	if err == nil {
		s.count("revoked")
	}
	return p, err
}
