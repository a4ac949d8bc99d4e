package innerd

import (
	"context"
	"errors"
	"fmt"

	"sealgate/appliance/cli"
	"sealgate/appliance/daemon"
	"sealgate/inner/export"
	"sealgate/inner/ledger"
	"sealgate/inner/mask"
	"sealgate/shared/audit"
	"sealgate/shared/config"
	"sealgate/shared/keys"
)

// exportFlags let mask and watermark take the mark's export serial from
// the ledger, and record the copy there, instead of marking a payload typed
// by hand.
type exportFlags struct {
	Config    string `short:"c" default:"${config_default}" env:"${config_env}" help:"Daemon configuration file, whose ledger gives the export serial (with --requester)."`
	Requester string `help:"Who asked for the footage (officer, unit, agency). Takes the mark's export serial from the ledger and records the copy there; needs --reason."`
	Reason    string `help:"Why the footage is exported (case number, incident), for the ledger."`
}

func (f *exportFlags) fromLedger() bool { return f.Requester != "" || f.Reason != "" }

// issue makes a marked copy of in at out through inner/export, with the
// ledger of the configured daemon. keyDir overrides the configured key
// directory.
func (f *exportFlags) issue(ctx context.Context, app *daemon.App, in, out, keyDir string, render export.Render) (*mask.Result, *ledger.Entry, error) {
	if f.Requester == "" || f.Reason == "" {
		return nil, nil, errors.New("--requester and --reason go together: the ledger records both")
	}
	cfg, err := config.LoadInner(f.Config, app.Environ)
	if err != nil {
		return nil, nil, err
	}
	if keyDir == "" {
		keyDir = cfg.KeyDir
	}
	key, err := loadWatermarkKey(keyDir)
	if err != nil {
		return nil, nil, err
	}
	var (
		res   *mask.Result
		entry *ledger.Entry
	)
	err = daemon.WithDatabase(ctx, app, f.Config, func(_ *config.Base, db *daemon.Database, log *audit.Log, _ *keys.Secrets) error {
		l, err := ledger.New(db.Pool, log, cfg.ApplianceNumber)
		if err != nil {
			return err
		}
		is := export.Issuer{Ledger: l, Key: key}
		res, entry, err = is.Issue(ctx, export.Copy{In: in, Out: out, Requester: f.Requester, Reason: f.Reason, IssuedBy: "cli"}, render)
		return err
	})
	return res, entry, err
}

type ledgerCmd struct {
	List ledgerListCmd `cmd:"" help:"Show the newest rows of the export ledger."`
}

type ledgerListCmd struct {
	daemon.ConfigFlag
	Limit int  `default:"50" help:"How many rows, newest first."`
	JSON  bool `help:"Print one JSON object."`
}

func (c *ledgerListCmd) Run(ctx context.Context, app *daemon.App) error {
	cfg, err := config.LoadInner(c.Config, app.Environ)
	if err != nil {
		return err
	}
	return daemon.WithDatabase(ctx, app, c.Config, func(_ *config.Base, db *daemon.Database, log *audit.Log, _ *keys.Secrets) error {
		l, err := ledger.New(db.Pool, log, cfg.ApplianceNumber)
		if err != nil {
			return err
		}
		es, err := l.List(ctx, max(c.Limit, 1))
		if err != nil {
			return err
		}
		if c.JSON {
			return cli.PrintJSON(app.Stdout, map[string]any{"exports": es})
		}
		for _, e := range es {
			destroyed := ""
			if e.DestructionVerified {
				destroyed = "  destroyed " + e.DestroyedAt.Local().Format("2006-01-02 15:04") + " (verified receipt)"
			}
			fmt.Fprintf(app.Stdout, "%s  %-9s  %s  %s  %q  %q%s\n", e.Payload, e.State, e.IssuedAt.Local().Format("2006-01-02 15:04"),
				e.SourceName, e.Requester, e.Reason, destroyed)
		}
		return nil
	})
}
