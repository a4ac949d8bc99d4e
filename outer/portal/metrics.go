package portal

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"sealgate/outer/pkgstore"
	sgmetrics "sealgate/shared/metrics"
)

// metrics count the portal's downloads as they happen; what the store
// holds is read from the packages table at each scrape (storeCollector),
// so every node reports the same, durable figures.
type metrics struct {
	downloads *prometheus.CounterVec
	bytes     prometheus.Counter
}

// downloadResults are the values of the downloads' result label.
var downloadResults = []string{"whole", "range", "bad_range", "not_modified", "refused", "gone", "failed"}

func newMetrics(reg prometheus.Registerer, store *pkgstore.Store, log *slog.Logger) (*metrics, error) {
	m := &metrics{
		downloads: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: sgmetrics.Namespace, Subsystem: "portal", Name: "downloads_total",
			Help: "Package download requests, by result: whole, range, bad_range, not_modified, refused (404), gone (410), failed."}, []string{"result"}),
		bytes: prometheus.NewCounter(prometheus.CounterOpts{Namespace: sgmetrics.Namespace, Subsystem: "portal", Name: "download_bytes_total",
			Help: "Package bytes sent to officers."}),
	}
	for _, r := range downloadResults {
		m.downloads.WithLabelValues(r)
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.downloads, m.bytes, newStoreCollector(store, log)} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// storeCollector reads the packages table when scraped.
type storeCollector struct {
	store                                      *pkgstore.Store
	log                                        *slog.Logger
	packages, stored                           *prometheus.Desc
	arrivals, heldBytes, heldPackages, lastArr *prometheus.Desc
}

// scrapeTimeout bounds the table reads of one scrape.
const scrapeTimeout = 5 * time.Second

func newStoreCollector(store *pkgstore.Store, log *slog.Logger) *storeCollector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(sgmetrics.Namespace, "portal", name), help, labels, nil)
	}
	return &storeCollector{store: store, log: log,
		packages:     d("packages", "Packages recorded, by state (available, destroyed).", "state"),
		stored:       d("stored_bytes", "Bytes of the packages held (available)."),
		arrivals:     d("peer_arrivals_total", "Packages received from each inner appliance.", "peer"),
		heldBytes:    d("peer_held_bytes", "Bytes held of each inner appliance's packages.", "peer"),
		heldPackages: d("peer_held_packages", "Packages held of each inner appliance.", "peer"),
		lastArr:      d("peer_last_arrival_timestamp_seconds", "When the latest package from each inner appliance arrived.", "peer"),
	}
}

func (s *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{s.packages, s.stored, s.arrivals, s.heldBytes, s.heldPackages, s.lastArr} {
		ch <- d
	}
}

// Collect reports what the table says; a table it cannot read leaves the
// figures out of this scrape (logged), rather than failing the others.
func (s *storeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	states, err := s.store.States(ctx)
	if err != nil {
		s.log.Warn("metrics: read the packages table", slog.Any("err", err))
		return
	}
	for _, st := range states {
		ch <- prometheus.MustNewConstMetric(s.packages, prometheus.GaugeValue, float64(st.Packages), st.State)
		if st.State == "available" {
			ch <- prometheus.MustNewConstMetric(s.stored, prometheus.GaugeValue, float64(st.Bytes))
		}
	}
	peers, err := s.store.Peers(ctx)
	if err != nil {
		s.log.Warn("metrics: read the packages table", slog.Any("err", err))
		return
	}
	for _, p := range peers {
		ch <- prometheus.MustNewConstMetric(s.arrivals, prometheus.CounterValue, float64(p.Arrivals), p.Peer)
		ch <- prometheus.MustNewConstMetric(s.heldBytes, prometheus.GaugeValue, float64(p.HeldBytes), p.Peer)
		ch <- prometheus.MustNewConstMetric(s.heldPackages, prometheus.GaugeValue, float64(p.Held), p.Peer)
		ch <- prometheus.MustNewConstMetric(s.lastArr, prometheus.GaugeValue, float64(p.LastArrival.Unix()), p.Peer)
	}
}
