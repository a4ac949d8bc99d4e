package innerd

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"sealgate/appliance/cli"
	"sealgate/appliance/daemon"
	"sealgate/inner/outbox"
	"sealgate/shared/audit"
	"sealgate/shared/config"
	"sealgate/shared/keys"
	sgmetrics "sealgate/shared/metrics"
	"sealgate/transfer/send"
)

func outboxDir(b *config.Base) string { return filepath.Join(b.DataDir, "outbox") }

// sender returns the outbox's sender to the paired outer, or nothing when
// transfer.outer_address is empty (closed-network sites).
func sender(cfg *config.Inner, k *keys.Inner, log *slog.Logger) func(*daemon.Database, *audit.Log, prometheus.Registerer) ([]func(context.Context) error, error) {
	return func(db *daemon.Database, auditLog *audit.Log, reg prometheus.Registerer) ([]func(context.Context) error, error) {
		ob, err := outbox.New(db.Pool, outboxDir(&cfg.Base), auditLog)
		if err != nil {
			return nil, err
		}
		stat := func(pick func(int, time.Duration) float64) func() float64 {
			return func() float64 {
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				defer cancel()
				depth, oldest, err := ob.Stats(ctx)
				if err != nil {
					return -1
				}
				return pick(depth, oldest)
			}
		}
		reg.MustRegister(
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: sgmetrics.Namespace, Subsystem: "outbox", Name: "depth", Help: "Packages waiting for delivery."},
				stat(func(d int, _ time.Duration) float64 { return float64(d) })),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: sgmetrics.Namespace, Subsystem: "outbox", Name: "oldest_age_seconds", Help: "Age of the oldest package waiting."},
				stat(func(_ int, o time.Duration) float64 { return o.Seconds() })),
			stateCollector{ob},
		)
		t := cfg.Transfer
		if t.OuterAddress == "" {
			return nil, nil
		}
		s := send.New(send.Config{
			Addr: t.OuterAddress, OuterFingerprint: t.OuterFingerprint, Identity: k.Transfer, Streams: t.Streams, Connections: t.Connections,
			BytesPerSecond: int64(t.BandwidthMbps) * 125_000, Log: log.With("component", "send"),
		}, ob, reg)
		return []func(context.Context) error{s.Run}, nil
	}
}

type outboxCmd struct {
	Add  outboxAddCmd  `cmd:"" help:"Queue a sealed package for the paired outer appliance."`
	List outboxListCmd `cmd:"" help:"Show each queued package's state."`
}

type outboxAddCmd struct {
	daemon.ConfigFlag
	Priority int    `help:"Higher goes first." default:"0"`
	Package  string `arg:"" type:"existingfile" help:"Sealed package (made by seal)."`
	JSON     bool   `help:"Print one JSON object."`
}

func (c *outboxAddCmd) Run(ctx context.Context, app *daemon.App) error {
	return daemon.WithDatabase(ctx, app, c.Config, func(base *config.Base, db *daemon.Database, log *audit.Log, _ *keys.Secrets) error {
		k, err := keys.LoadInner(base.KeyDir)
		if err != nil {
			return err
		}
		ob, err := outbox.New(db.Pool, outboxDir(base), log)
		if err != nil {
			return err
		}
		e, err := ob.Add(ctx, "cli", c.Package, k.Signing.Public().(ed25519.PublicKey), c.Priority)
		if err != nil {
			return err
		}
		if c.JSON {
			return cli.PrintJSON(app.Stdout, e)
		}
		fmt.Fprintf(app.Stdout, "Queued %s (%d bytes) as outbox entry %d.\n", e.SHA256, e.Size, e.ID)
		return nil
	})
}

type outboxListCmd struct {
	daemon.ConfigFlag
	JSON bool `help:"Print one JSON object."`
}

func (c *outboxListCmd) Run(ctx context.Context, app *daemon.App) error {
	return daemon.WithDatabase(ctx, app, c.Config, func(base *config.Base, db *daemon.Database, log *audit.Log, _ *keys.Secrets) error {
		ob, err := outbox.New(db.Pool, outboxDir(base), log)
		if err != nil {
			return err
		}
		es, err := ob.List(ctx)
		if err != nil {
			return err
		}
		if c.JSON {
			return cli.PrintJSON(app.Stdout, map[string]any{"packages": es})
		}
		for _, e := range es {
			fmt.Fprintf(app.Stdout, "%4d  %s  %12d  %-9s  attempts %d  %s\n", e.ID, e.SHA256, e.Size, e.State, e.Attempts, e.LastError)
		}
		return nil
	})
}

var outboxStates = prometheus.NewDesc(prometheus.BuildFQName(sgmetrics.Namespace, "outbox", "packages"),
	"Packages in the outbox, by state (queued, sending, delivered, refused).", []string{"state"}, nil)

// stateCollector reads the outbox's counts by state at each scrape.
type stateCollector struct{ ob *outbox.Outbox }

func (stateCollector) Describe(ch chan<- *prometheus.Desc) { ch <- outboxStates }

func (c stateCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	counts, err := c.ob.Counts(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(outboxStates, err)
		return
	}
	for _, st := range outbox.States {
		ch <- prometheus.MustNewConstMetric(outboxStates, prometheus.GaugeValue, float64(counts[st]), st)
	}
}
