package daemon

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"sealgate/shared/account"
	"sealgate/shared/audit"
	"sealgate/shared/keys"
	"sealgate/shared/metrics"
)

// AuditVerifyEvery is how often a daemon walks its whole audit chain for
// the security team's gauge (docs/monitoring.md): an altered or deleted
// entry shows within this long.
const AuditVerifyEvery = 15 * time.Minute

// monitorScrapeTimeout bounds the database read of one scrape.
const monitorScrapeTimeout = 5 * time.Second

// monitor registers what both daemons report on their own state — the
// audit chain's last verification, the key files' permissions, the free
// space under their directories, the accounts locked out — and returns
// the component that verifies the chain.
func monitor(s Spec, reg prometheus.Registerer, l *audit.Log, svc *account.Service, log *slog.Logger) (Component, error) {
	v := &chainVerifier{log: l, logger: log, intact: -1}
	for _, c := range []prometheus.Collector{v, keyModes{dir: s.Base.KeyDir, log: log}, disks(s), lockedUsers{svc: svc, log: log}} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return ComponentFunc(v.Run), nil
}

func desc(sub, name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(prometheus.BuildFQName(metrics.Namespace, sub, name), help, labels, nil)
}

var (
	chainIntactDesc = desc("audit", "chain_intact",
		"1: the audit chain verified intact at the last walk; 0: it is broken (an entry altered, deleted or out of place); -1: not walked yet since start.")
	chainEntriesDesc  = desc("audit", "chain_verified_entries", "Entries of the audit chain that held at the last walk.")
	chainVerifiedDesc = desc("audit", "chain_verified_timestamp_seconds", "When the audit chain was last walked to its end (0: not yet).")
	chainSecondsDesc  = desc("audit", "chain_verify_duration_seconds", "How long the last walk of the audit chain took.")
)

// chainVerifier walks the audit chain at start and every AuditVerifyEvery.
// A walk that could not finish (the database away) changes nothing: the
// verification time goes stale, which the alert on it catches.
type chainVerifier struct {
	log    *audit.Log
	logger *slog.Logger

	mu                     sync.Mutex
	intact, entries        float64
	verifiedAt, tookSecond float64
}

func (v *chainVerifier) Run(ctx context.Context) error {
	t := time.NewTicker(AuditVerifyEvery)
	defer t.Stop()
	for {
		v.verify(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func (v *chainVerifier) verify(ctx context.Context) {
	start := time.Now()
	n, err := v.log.Verify(ctx)
	var broken *audit.BrokenError
	if err != nil && !errors.As(err, &broken) {
		if ctx.Err() == nil {
			v.logger.Warn("audit chain: could not walk it", slog.Any("err", err))
		}
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	v.intact, v.entries, v.verifiedAt, v.tookSecond = 1, float64(n), float64(time.Now().Unix()), time.Since(start).Seconds()
	if broken != nil {
		v.intact = 0
		v.logger.Error("audit chain broken", slog.Int64("seq", broken.Seq), slog.String("reason", broken.Reason))
	}
}

func (v *chainVerifier) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{chainIntactDesc, chainEntriesDesc, chainVerifiedDesc, chainSecondsDesc} {
		ch <- d
	}
}

func (v *chainVerifier) Collect(ch chan<- prometheus.Metric) {
	v.mu.Lock()
	defer v.mu.Unlock()
	ch <- prometheus.MustNewConstMetric(chainIntactDesc, prometheus.GaugeValue, v.intact)
	ch <- prometheus.MustNewConstMetric(chainEntriesDesc, prometheus.GaugeValue, v.entries)
	ch <- prometheus.MustNewConstMetric(chainVerifiedDesc, prometheus.GaugeValue, v.verifiedAt)
	ch <- prometheus.MustNewConstMetric(chainSecondsDesc, prometheus.GaugeValue, v.tookSecond)
}

var keyModeDesc = desc("keys", "file_unsafe",
	`1 when a key file's permissions are unsafe (a private key readable by others than its owner, or file="." the key directory writable by others), else 0.`, "file")

// keyModes looks at the key directory at each scrape: the keys were
// checked at start, and this catches a chmod made while the daemon runs.
// A directory that cannot be read counts as unsafe.
type keyModes struct {
	dir string
	log *slog.Logger
}

func (keyModes) Describe(ch chan<- *prometheus.Desc) { ch <- keyModeDesc }

func (k keyModes) Collect(ch chan<- prometheus.Metric) {
	modes, err := keys.Modes(k.dir)
	if err != nil {
		k.log.Warn("metrics: key directory", slog.Any("err", err))
		modes = []keys.Mode{{Name: "."}}
	}
	for _, m := range modes {
		v := 0.0
		if !m.Safe {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(keyModeDesc, prometheus.GaugeValue, v, m.Name)
	}
}

var (
	diskFreeDesc = desc("disk", "free_bytes", "Bytes free for the daemon on the filesystem of each of its directories (-1: cannot be told).", "dir")
	diskSizeDesc = desc("disk", "size_bytes", "Size of the filesystem of each of the daemon's directories.", "dir")
)

// diskSpace reports the filesystems of named directories at each scrape.
type diskSpace map[string]string

// disks names data_dir "data" beside the daemon's own Spec.Dirs.
func disks(s Spec) diskSpace {
	d := diskSpace{"data": s.Base.DataDir}
	for _, dir := range s.Dirs {
		d[dir.Name] = dir.Path
	}
	return d
}

func (diskSpace) Describe(ch chan<- *prometheus.Desc) {
	ch <- diskFreeDesc
	ch <- diskSizeDesc
}

func (d diskSpace) Collect(ch chan<- prometheus.Metric) {
	for name, path := range d {
		free, size := -1.0, -1.0
		if f, sz, err := dirSpace(path); err == nil {
			free, size = float64(f), float64(sz)
		}
		ch <- prometheus.MustNewConstMetric(diskFreeDesc, prometheus.GaugeValue, free, name)
		ch <- prometheus.MustNewConstMetric(diskSizeDesc, prometheus.GaugeValue, size, name)
	}
}

// dirSpace is the bytes free for the daemon and the size of the
// filesystem holding path. A directory made at its first use (the exports'
// work_dir, the store) is on its nearest existing parent's until then.
func dirSpace(path string) (free, size uint64, err error) {
	var st syscall.Statfs_t
	err = syscall.Statfs(path, &st)
	for p := path; errors.Is(err, syscall.ENOENT) && filepath.Dir(p) != p; {
		p = filepath.Dir(p)
		err = syscall.Statfs(p, &st)
	}
	if err != nil {
		return 0, 0, err
	}
	return st.Bavail * uint64(st.Bsize), st.Blocks * uint64(st.Bsize), nil
}

var lockedDesc = desc("account", "locked_users", "Accounts locked out now by failed sign-in steps (-1: the table could not be read).")

type lockedUsers struct {
	svc *account.Service
	log *slog.Logger
}

func (lockedUsers) Describe(ch chan<- *prometheus.Desc) { ch <- lockedDesc }

func (l lockedUsers) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), monitorScrapeTimeout) // a scrape has no context of its own
	defer cancel()
	n, err := l.svc.LockedUsers(ctx)
	if err != nil {
		l.log.Warn("metrics: locked users", slog.Any("err", err))
		n = -1
	}
	ch <- prometheus.MustNewConstMetric(lockedDesc, prometheus.GaugeValue, float64(n))
}
