package outerd

import (
	"context"
	"fmt"
	"log/slog"
	"net"

	"sealgate/appliance/cli"
	"sealgate/appliance/daemon"
	"sealgate/outer/expiry"
	"sealgate/outer/license"
	"sealgate/outer/officers"
	"sealgate/outer/pkgstore"
	"sealgate/outer/portal"
	"sealgate/shared/audit"
	"sealgate/shared/config"
	"sealgate/shared/keys"
	"sealgate/transfer/receive"
)

// receiver returns the QUIC receiver of packages from the paired inner
// appliances, or nothing when transfer.listen is empty.
func receiver(cfg *config.Outer, k *keys.Outer, log *slog.Logger) func(daemon.Env) ([]daemon.Component, error) {
	return func(env daemon.Env) ([]daemon.Component, error) {
		db, auditLog, reg := env.DB, env.Audit, env.Metrics
		// Expiry runs whether or not this node receives: the packages it
		// holds are destroyed when their windows end.
		sweeper := expiry.New(pkgstore.New(db.Pool, auditLog), log.With(slog.String("component", "expiry")))
		if err := sweeper.Register(reg); err != nil {
			return nil, err
		}
		if err := registerQuota(reg, cfg); err != nil {
			return nil, err
		}
		parts := []daemon.Component{daemon.ComponentFunc(sweeper.Run)}
		registry, err := officers.New(officers.Config{DB: db.Pool, Accounts: env.Accounts, Audit: auditLog, EmailDomains: cfg.Officers.EmailDomains, Metrics: reg,
			Log: log.With(slog.String("component", "officers"))})
		if err != nil {
			return nil, err
		}
		lic, err := license.New(license.Config{DB: db.Pool, Store: pkgstore.New(db.Pool, auditLog), Audit: auditLog, Key: k.License,
			MaxPlays: cfg.License.MaxPlays, Metrics: reg, Log: log.With(slog.String("component", "license"))})
		if err != nil {
			return nil, err
		}
		if _, err := portal.New(portal.Config{UI: env.UI, DB: db.Pool, Accounts: env.Accounts, Store: pkgstore.New(db.Pool, auditLog), Audit: auditLog,
			Metrics: reg, Log: log.With(slog.String("component", "portal")),
			Expiry: sweeper, StoreDir: cfg.Transfer.StoreDir, QuotaBytes: int64(cfg.Transfer.QuotaGB) << 30, Peers: cfg.Transfer.Peers,
			Officers: registry, License: lic}); err != nil {
			return nil, err
		}
		if cfg.Transfer.Listen == "" {
			return parts, nil
		}
		peers := map[string]receive.Peer{}
		for _, p := range cfg.Transfer.Peers {
			signer, err := keys.ReadSigningPub(p.SigningPub)
			if err != nil {
				return nil, fmt.Errorf("transfer peer %s: %w", p.Name, err)
			}
			peers[p.TransferFingerprint] = receive.Peer{Name: p.Name, Signer: signer}
		}
		store, err := pkgstore.OpenDir(cfg.Transfer.StoreDir, pkgstore.New(db.Pool, auditLog))
		if err != nil {
			return nil, err
		}
		rcv, err := receive.New(receive.Config{
			Store: store, Identity: k.Transfer, Peers: peers, Streams: int64(cfg.Transfer.Streams),
			MaxPackage: int64(cfg.Transfer.MaxPackageGB) << 30, Quota: int64(cfg.Transfer.QuotaGB) << 30,
			Records: pkgstore.New(db.Pool, auditLog), // answers the inner's status queries: destruction receipts
			Anchors: daemon.OuterAnchors{File: cfg.Audit.AnchorFile, Peers: audit.NewPeerAnchors(db.Pool)},
			Log:     log.With(slog.String("component", "receive")), Metrics: reg,
		})
		if err != nil {
			return nil, err
		}
		pc, err := net.ListenPacket("udp", cfg.Transfer.Listen)
		if err != nil {
			return nil, fmt.Errorf("transfer: listen on %s/udp: %w", cfg.Transfer.Listen, err)
		}
		return append(parts, daemon.ComponentFunc(func(ctx context.Context) error {
			defer pc.Close()
			if n, err := store.Reconcile(ctx); err != nil {
				return err
			} else if n > 0 {
				log.Warn("recorded packages stored before a crash", slog.Int("packages", n))
			}
			log.Info("receiving packages", slog.String("listen", pc.LocalAddr().String()+"/udp"), slog.Int("paired_inner_appliances", len(peers)))
			return rcv.Serve(ctx, pc)
		})), nil
	}
}

type storeCmd struct {
	List   storeListCmd   `cmd:"" help:"List the packages the outer holds."`
	Revoke storeRevokeCmd `cmd:"" help:"Destroy a package now, before its viewing period ends (audited with the reason)."`
}

type storeRevokeCmd struct {
	daemon.ConfigFlag
	ID     string `arg:"" help:"Package id (its SHA-256, as store list shows it)."`
	Reason string `required:"" help:"Why (kept in the audit log)."`
	JSON   bool   `help:"Print one JSON object."`
}

func (c *storeRevokeCmd) Run(ctx context.Context, app *daemon.App) error {
	return daemon.WithDatabase(ctx, app, c.Config, func(_ *config.Base, db *daemon.Database, log *audit.Log, _ *keys.Secrets) error {
		p, err := expiry.Revoke(ctx, pkgstore.New(db.Pool, log), "cli", c.ID, c.Reason)
		if err != nil {
			return err
		}
		if c.JSON {
			return cli.PrintJSON(app.Stdout, p)
		}
		fmt.Fprintf(app.Stdout, "Package %s (export %s for %s) destroyed.\n", p.ID, p.ExportCode, p.Recipient)
		return nil
	})
}

type storeListCmd struct {
	daemon.ConfigFlag
	JSON bool `help:"Print one JSON object."`
}

func (c *storeListCmd) Run(ctx context.Context, app *daemon.App) error {
	return daemon.WithDatabase(ctx, app, c.Config, func(_ *config.Base, db *daemon.Database, log *audit.Log, _ *keys.Secrets) error {
		pkgs, err := pkgstore.New(db.Pool, log).List(ctx)
		if err != nil {
			return err
		}
		if c.JSON {
			return cli.PrintJSON(app.Stdout, map[string]any{"packages": pkgs})
		}
		for _, p := range pkgs {
			until := "-"
			if p.ExpiresAt != nil {
				until = p.ExpiresAt.Local().Format("2006-01-02 15:04")
			}
			fmt.Fprintf(app.Stdout, "%s  %12d  %-10s  %s  %s  %s  %s until %s\n", p.ID, p.Size, p.State, p.ReceivedAt.Format("2006-01-02 15:04:05"),
				p.Peer, p.ExportCode, p.Recipient, until)
		}
		return nil
	})
}
