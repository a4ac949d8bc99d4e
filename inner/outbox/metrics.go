package outbox

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	sgmetrics "sealgate/shared/metrics"
)

// scrapeTimeout bounds the database queries of one scrape.
const scrapeTimeout = 2 * time.Second

var (
	depthDesc = prometheus.NewDesc(prometheus.BuildFQName(sgmetrics.Namespace, "outbox", "depth"),
		"Packages waiting for delivery.", nil, nil)
	oldestDesc = prometheus.NewDesc(prometheus.BuildFQName(sgmetrics.Namespace, "outbox", "oldest_age_seconds"),
		"Age of the oldest package waiting.", nil, nil)
	statesDesc = prometheus.NewDesc(prometheus.BuildFQName(sgmetrics.Namespace, "outbox", "packages"),
		"Packages in the outbox, by state (queued, sending, delivered, refused).", []string{"state"}, nil)
)

// Collector reports the outbox's depth, the age of its oldest waiting
// package and its counts by state, read from the database at each scrape.
// When the database cannot be read, depth and age are -1 and the counts an
// invalid metric (the scrape says why), never a zero that looks healthy.
type Collector struct{ ob *Outbox }

// NewCollector reports on ob.
func NewCollector(ob *Outbox) Collector { return Collector{ob} }

// Describe implements prometheus.Collector.
func (Collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- depthDesc
	ch <- oldestDesc
	ch <- statesDesc
}

// Collect implements prometheus.Collector.
func (c Collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout) // a scrape has no context of its own
	defer cancel()
	depth, oldest, err := c.ob.Stats(ctx)
	if err != nil { // -1: the depth is not known, and alerts on depth > N stay quiet
		depth, oldest = -1, -time.Second
	}
	ch <- prometheus.MustNewConstMetric(depthDesc, prometheus.GaugeValue, float64(depth))
	ch <- prometheus.MustNewConstMetric(oldestDesc, prometheus.GaugeValue, oldest.Seconds())
	counts, err := c.ob.Counts(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(statesDesc, err)
		return
	}
	for _, st := range States {
		ch <- prometheus.MustNewConstMetric(statesDesc, prometheus.GaugeValue, float64(counts[st]), st)
	}
}
