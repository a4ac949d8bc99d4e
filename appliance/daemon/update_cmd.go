package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"runtime"
	"strings"

	"sealgate/appliance/cli"
	"sealgate/shared/audit"
	"sealgate/shared/buildinfo"
	"sealgate/shared/config"
	"sealgate/shared/keys"
	"sealgate/shared/update"
)

// UpdateCmd installs signed releases and returns to the previous one
// (docs/updates.md). Each daemon's command struct embeds it as `update`.
type UpdateCmd struct {
	Apply    UpdateApplyCmd    `cmd:"" help:"Verify a signed release bundle (key, version, kind, platform, every file's SHA-256), then install it as current."`
	Rollback UpdateRollbackCmd `cmd:"" help:"Make the previous release current again (and the current one previous)."`
	Status   UpdateStatusCmd   `cmd:"" help:"Show the installed current and previous releases and the trusted release keys."`
}

// UpdateApplyCmd verifies and installs a release bundle.
type UpdateApplyCmd struct {
	ConfigFlag
	Bundle    string `arg:"" type:"existingfile" help:"Release bundle (.tar.gz) from make release."`
	Reinstall bool   `help:"Install the version already installed again, or over a development build; never an older one."`
	JSON      bool   `help:"Print one JSON object."`
}

// Run refuses the bundle, changing nothing, unless everything checks out;
// either way the outcome goes to the audit log and the log.
func (c *UpdateApplyCmd) Run(ctx context.Context, app *App) error {
	base, err := app.LoadConfig(c.Config, app.Environ)
	if err != nil {
		return err
	}
	log := Logger(app.Stderr, base)
	dir := base.Update.InstallDir
	unlock, err := update.Lock(dir)
	if err != nil {
		return err
	}
	defer unlock()
	installed, _, err := update.Versions(dir)
	if err != nil {
		return err
	}
	if installed == "" {
		installed = buildinfo.Version // not installed by bundle yet: the running binary's
	}
	want := update.Expect{Kind: strings.TrimPrefix(app.Name, "sealgate-"), GOOS: runtime.GOOS, GOARCH: runtime.GOARCH,
		Installed: installed, Reinstall: c.Reinstall}
	return WithDatabase(ctx, app, c.Config, func(_ *config.Base, _ *Database, alog *audit.Log, _ *keys.Secrets) error {
		actor := cliActor()
		record := func(outcome, target, detail string) error {
			return alog.Append(ctx, audit.Entry{Actor: actor.Name, Action: "update.apply", Target: target, Outcome: outcome, Remote: actor.Remote, Detail: detail})
		}
		trusted, err := update.ReadKeys(base.Update.ReleaseKeys)
		var staged *update.Staged
		if err == nil {
			staged, err = update.Stage(c.Bundle, dir, trusted, want)
		} else {
			err = fmt.Errorf("%w: %w", update.ErrRefused, err)
		}
		if err != nil {
			outcome := audit.Failed
			if errors.Is(err, update.ErrRefused) {
				outcome = audit.Denied
			}
			log.Warn("update refused", slog.String("bundle", c.Bundle), slog.String("installed", installed), slog.Any("error", err))
			return errors.Join(err, record(outcome, filepath.Base(c.Bundle), err.Error()))
		}
		defer staged.Discard()
		m := staged.Manifest
		detail := fmt.Sprintf("from %s; bundle sha256:%s; signed by %s", installed, staged.SHA256, staged.SignedBy)
		if err := staged.Install(dir); err != nil {
			log.Error("update failed", slog.String("version", m.Version), slog.Any("error", err))
			return errors.Join(err, record(audit.Failed, m.Version, detail+"; "+err.Error()))
		}
		if err := record(audit.OK, m.Version, detail); err != nil {
			return fmt.Errorf("installed %s, but the audit log refused its entry: %w", m.Version, err)
		}
		log.Info("update installed", slog.String("version", m.Version), slog.String("previous", installed),
			slog.String("bundle_sha256", staged.SHA256), slog.String("signed_by", staged.SignedBy), slog.String("install_dir", dir))
		if c.JSON {
			return cli.PrintJSON(app.Stdout, map[string]any{"version": m.Version, "previous": installed, "bundle_sha256": staged.SHA256,
				"signed_by": staged.SignedBy, "current": filepath.Join(dir, update.CurrentLink)})
		}
		fmt.Fprintf(app.Stdout, "installed %s %s (was %s), signed by %s\nrestart the service to run it: systemctl restart %s\n",
			app.Name, m.Version, installed, staged.SignedBy, app.Name)
		return nil
	})
}

// UpdateRollbackCmd swaps the current and previous releases.
type UpdateRollbackCmd struct {
	ConfigFlag
	JSON bool `help:"Print one JSON object."`
}

// Run switches back and audits it; the database schema is not rolled back
// (docs/updates.md, "Rollback").
func (c *UpdateRollbackCmd) Run(ctx context.Context, app *App) error {
	return WithDatabase(ctx, app, c.Config, func(base *config.Base, _ *Database, alog *audit.Log, _ *keys.Secrets) error {
		actor := cliActor()
		unlock, err := update.Lock(base.Update.InstallDir)
		if err != nil {
			return err
		}
		defer unlock()
		from, to, err := update.Rollback(base.Update.InstallDir)
		if err != nil {
			return errors.Join(err, alog.Append(ctx, audit.Entry{Actor: actor.Name, Action: "update.rollback", Outcome: audit.Failed, Remote: actor.Remote, Detail: err.Error()}))
		}
		if err := alog.Append(ctx, audit.Entry{Actor: actor.Name, Action: "update.rollback", Target: to, Outcome: audit.OK, Remote: actor.Remote, Detail: "from " + from}); err != nil {
			return fmt.Errorf("rolled back to %s, but the audit log refused its entry: %w", to, err)
		}
		Logger(app.Stderr, base).Info("update rolled back", slog.String("from", from), slog.String("to", to))
		if c.JSON {
			return cli.PrintJSON(app.Stdout, map[string]any{"version": to, "previous": from})
		}
		fmt.Fprintf(app.Stdout, "current is %s again (%s is previous)\nrestart the service to run it: systemctl restart %s\n", to, from, app.Name)
		return nil
	})
}

// UpdateStatusCmd shows what is installed; it needs no database.
type UpdateStatusCmd struct {
	ConfigFlag
	JSON bool `help:"Print one JSON object."`
}

// Run prints the installed releases and the trusted keys' fingerprints.
func (c *UpdateStatusCmd) Run(app *App) error {
	base, err := app.LoadConfig(c.Config, app.Environ)
	if err != nil {
		return err
	}
	cur, prev, err := update.Versions(base.Update.InstallDir)
	if err != nil {
		return err
	}
	trusted, err := update.ReadKeys(base.Update.ReleaseKeys)
	if err != nil {
		return err
	}
	fps := []string{}
	for _, k := range trusted {
		fps = append(fps, k.Fingerprint)
	}
	if c.JSON {
		return cli.PrintJSON(app.Stdout, map[string]any{"running": buildinfo.Version, "current": cur, "previous": prev,
			"install_dir": base.Update.InstallDir, "release_keys": fps})
	}
	fmt.Fprintf(app.Stdout, "running:  %s\ncurrent:  %s\nprevious: %s\ninstall:  %s\nkeys:     %s\n",
		buildinfo.Version, orNone(cur), orNone(prev), base.Update.InstallDir, orNone(strings.Join(fps, ", ")))
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}
