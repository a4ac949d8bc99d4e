package outerd

import (
	"github.com/prometheus/client_golang/prometheus"

	"sealgate/shared/config"
	sgmetrics "sealgate/shared/metrics"
)

// registerQuota reports transfer.quota_gb beside the store's use
// (sealgate_portal_stored_bytes), so the storage alert needs no copy of
// the configuration (docs/monitoring.md).
func registerQuota(reg prometheus.Registerer, cfg *config.Outer) error {
	quota := float64(int64(cfg.Transfer.QuotaGB) << 30)
	return reg.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: sgmetrics.Namespace, Subsystem: "store", Name: "quota_bytes",
		Help: "Bytes the package store may hold (transfer.quota_gb; 0: no quota, the disk is the limit)."}, func() float64 { return quota }))
}
