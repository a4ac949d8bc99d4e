package innerd

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"log/slog"
	"path/filepath"

	"sealgate/appliance/cli"
	"sealgate/appliance/daemon"
	"sealgate/inner/outbox"
	"sealgate/shared/audit"
	"sealgate/shared/config"
	"sealgate/shared/keys"
	"sealgate/transfer/send"
)

func outboxDir(b *config.Base) string { return filepath.Join(b.DataDir, "outbox") }

// sender is the outbox's sender to the paired outer, or nothing when
// transfer.outer_address is empty (closed-network sites); the outbox's
// gauges are registered either way.
func sender(cfg *config.Inner, k *keys.Inner, env daemon.Env, ob *outbox.Outbox) ([]daemon.Component, error) {
	env.Metrics.MustRegister(outbox.NewCollector(ob))
	t := cfg.Transfer
	if t.OuterAddress == "" {
		return nil, nil
	}
	s := send.New(send.Config{
		Addr: t.OuterAddress, OuterFingerprint: t.OuterFingerprint, Identity: k.Transfer, Streams: t.Streams, Connections: t.Connections,
		BytesPerSecond: int64(t.BandwidthMbps) * 125_000, QueryEarly: t.StatusEvery,
		Anchors: daemon.InnerAnchors{File: cfg.Audit.AnchorFile, Peers: audit.NewPeerAnchors(env.DB.Pool)}, Log: env.Log.With(slog.String("component", "send")),
	}, ob.Sending(k.Signing.Public().(ed25519.PublicKey)), env.Metrics)
	return []daemon.Component{s}, nil
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
