package daemon

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/jackc/pgx/v5"

	"sealgate/appliance/cli"
	"sealgate/shared/audit"
	"sealgate/shared/config"
	"sealgate/shared/keys"
)

// AuditVerifyCmd checks the audit chain, and against an anchor when given one.
type AuditVerifyCmd struct {
	ConfigFlag
	Anchor string `type:"existingfile" help:"Anchor file from an earlier audit anchor: also report entries deleted from the end, or the history rewritten, since it was made. Default: the daemon's last anchor (audit.anchor_file), if any."`
	JSON   bool   `help:"Print one JSON object."`
}

// Run walks the chain; it fails naming the first altered, deleted or
// reordered entry, or the first entry the anchor counted that is missing.
func (c *AuditVerifyCmd) Run(ctx context.Context, app *App) error {
	var anchor *audit.Anchor
	if c.Anchor != "" {
		f, err := os.Open(c.Anchor)
		if err != nil {
			return err
		}
		a, err := audit.ReadAnchor(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", c.Anchor, err)
		}
		anchor = &a
	}
	return WithDatabase(ctx, app, c.Config, func(base *config.Base, _ *Database, log *audit.Log, _ *keys.Secrets) error {
		var (
			n   int64
			err error
		)
		if anchor == nil { // the daemon's own last anchor (audit.anchor_file), when there is one
			a, ok, err := audit.ReadAnchorFile(base.Audit.AnchorFile)
			if err != nil {
				return err
			}
			if ok {
				anchor = &a
			}
		}
		if anchor != nil {
			n, err = log.VerifyAnchor(ctx, *anchor)
		} else {
			n, err = log.Verify(ctx)
		}
		if c.JSON {
			out := map[string]any{"intact": err == nil, "entries": n}
			if anchor != nil {
				out["anchor_seq"], out["anchored_at"] = anchor.Seq, anchor.AnchoredAt
			}
			var be *audit.BrokenError
			if errors.As(err, &be) {
				out["first_bad_entry"], out["reason"] = be.Seq, be.Reason
			} else if err != nil {
				out["reason"] = err.Error()
			}
			if perr := cli.PrintJSON(app.Stdout, out); perr != nil {
				return perr
			}
		}
		if err != nil {
			return err
		}
		if !c.JSON {
			fmt.Fprintf(app.Stdout, "audit log intact: %d entries\n", n)
			if anchor != nil {
				fmt.Fprintf(app.Stdout, "holds the anchor of %s (entry %d)\n", anchor.AnchoredAt.Format("2006-01-02T15:04:05Z07:00"), anchor.Seq)
			}
		}
		return nil
	})
}

// AuditAnchorCmd exports a signed anchor of the chain's head.
type AuditAnchorCmd struct {
	ConfigFlag
	Out  string `required:"" help:"File to write the anchor to (- for standard output); copy it off the appliance."`
	JSON bool   `help:"Print one JSON object."`
}

// Run records the anchoring in the log, so the anchor covers its own
// entry, then verifies the chain and writes the anchor of its head.
func (c *AuditAnchorCmd) Run(ctx context.Context, app *App) error {
	return WithDatabase(ctx, app, c.Config, func(_ *config.Base, _ *Database, log *audit.Log, _ *keys.Secrets) error {
		actor := cliActor()
		if err := log.Append(ctx, audit.Entry{Actor: actor.Name, Action: "audit.anchor", Remote: actor.Remote}); err != nil {
			return err
		}
		a, err := log.Anchor(ctx)
		if err != nil {
			return err
		}
		if c.Out == "-" {
			_, err = a.WriteTo(app.Stdout)
			return err
		}
		if err := audit.WriteAnchorFile(c.Out, a); err != nil {
			return err
		}
		if c.JSON {
			return cli.PrintJSON(app.Stdout, map[string]any{"file": c.Out, "seq": a.Seq, "mac": a.MAC, "anchored_at": a.AnchoredAt})
		}
		fmt.Fprintf(app.Stdout, "anchored entry %d (MAC %s) in %s; keep a copy off the appliance\n", a.Seq, a.MAC, c.Out)
		return nil
	})
}

// DatabaseMigrateCmd migrates an external database as its owner.
type DatabaseMigrateCmd struct {
	ConfigFlag
	OwnerURL string `required:"" env:"${owner_url_env}" help:"URL of the role that owns the schema (prefer the environment variable: a flag shows in ps)."`
}

// Run applies the migrations as the owner and grants the role of the
// configured database.url, which the daemon serves as.
func (c *DatabaseMigrateCmd) Run(ctx context.Context, app *App) error {
	base, err := app.LoadConfig(c.Config, app.Environ)
	if err != nil {
		return err
	}
	if base.Database.URL == "" {
		return errors.New("database.url is empty: the private database migrates itself at every start")
	}
	serving, err := pgx.ParseConfig(base.Database.URL)
	if err != nil {
		return fmt.Errorf("parse database.url: %w", err)
	}
	owner, err := pgx.ParseConfig(c.OwnerURL)
	if err != nil {
		return fmt.Errorf("parse the owner's url: %w", err)
	}
	if serving.User == owner.User {
		return fmt.Errorf("database.url's role %q owns the schema, so the daemon could rewrite the audit log: give it a role of its own (docs/operations.md)", serving.User)
	}
	if err := Setup(ctx, c.OwnerURL, serving.User, app.Migrations); err != nil {
		return err
	}
	fmt.Fprintf(app.Stdout, "migrated as %q; %q may serve (audit log: read and append only)\n", owner.User, serving.User)
	return nil
}
