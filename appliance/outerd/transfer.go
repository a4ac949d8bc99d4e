package outerd

import (
	"context"
	"fmt"
	"log/slog"
	"net"

	"sealgate/appliance/cli"
	"sealgate/appliance/daemon"
	"sealgate/outer/pkgstore"
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
		if cfg.Transfer.Listen == "" {
			return nil, nil
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
			Log: log.With(slog.String("component", "receive")), Metrics: reg,
		})
		if err != nil {
			return nil, err
		}
		pc, err := net.ListenPacket("udp", cfg.Transfer.Listen)
		if err != nil {
			return nil, fmt.Errorf("transfer: listen on %s/udp: %w", cfg.Transfer.Listen, err)
		}
		return []daemon.Component{daemon.ComponentFunc(func(ctx context.Context) error {
			defer pc.Close()
			if n, err := store.Reconcile(ctx); err != nil {
				return err
			} else if n > 0 {
				log.Warn("recorded packages stored before a crash", slog.Int("packages", n))
			}
			log.Info("receiving packages", slog.String("listen", pc.LocalAddr().String()+"/udp"), slog.Int("paired_inner_appliances", len(peers)))
			return rcv.Serve(ctx, pc)
		})}, nil
	}
}

type storeCmd struct {
	List storeListCmd `cmd:"" help:"List the packages the outer holds."`
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
			fmt.Fprintf(app.Stdout, "%s  %12d  %-10s  %s  %s\n", p.ID, p.Size, p.State, p.ReceivedAt.Format("2006-01-02 15:04:05"), p.Peer)
		}
		return nil
	})
}
