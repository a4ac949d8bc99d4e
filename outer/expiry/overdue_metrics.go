package expiry

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	sgmetrics "sealgate/shared/metrics"
)

// scrapeTimeout bounds the table read of one scrape.
const scrapeTimeout = 5 * time.Second

var (
	overdueDesc = prometheus.NewDesc(prometheus.BuildFQName(sgmetrics.Namespace, "expiry", "overdue_packages"),
		"Packages still available although their viewing window has ended (must be 0; -1: the table could not be read).", nil, nil)
	overdueAgeDesc = prometheus.NewDesc(prometheus.BuildFQName(sgmetrics.Namespace, "expiry", "overdue_oldest_seconds"),
		"How long ago the viewing window of the longest-overdue available package ended (0: none).", nil, nil)
)

// overdueCollector reads the packages table at each scrape, so every node
// of the outer reports what the database holds, whichever node sweeps.
// The sweeper runs every minute (Every): a package can be overdue for up
// to a minute in good health, never longer.
type overdueCollector struct{ s *Sweeper }

func (overdueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- overdueDesc
	ch <- overdueAgeDesc
}

// Collect reports -1 when the table cannot be read: not a 0 that looks
// healthy (docs/monitoring.md has the alert on it).
func (c overdueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout) // a scrape has no context of its own
	defer cancel()
	now := c.s.now()
	n, first, err := c.s.store.Overdue(ctx, now)
	age := 0.0
	switch {
	case err != nil:
		c.s.log.Warn("metrics: read overdue packages", slog.Any("err", err))
		n = -1
	case !first.IsZero():
		age = now.Sub(first).Seconds()
	}
	ch <- prometheus.MustNewConstMetric(overdueDesc, prometheus.GaugeValue, float64(n))
	ch <- prometheus.MustNewConstMetric(overdueAgeDesc, prometheus.GaugeValue, age)
}
