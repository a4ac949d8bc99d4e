package innerd

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"sealgate/appliance/cli"
	"sealgate/appliance/daemon"
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

// issue makes a marked copy of in at out for the ledger: it takes the next
// serial (recording requester and reason against the source's SHA-256),
// runs render with that mark, and records the output's SHA-256, or the
// failure. keyDir overrides the configured key directory.
func (f *exportFlags) issue(ctx context.Context, app *daemon.App, in, out, keyDir string, render func(*mask.Watermark) (*mask.Result, error)) (*mask.Result, *ledger.Entry, error) {
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
	source, err := hashFile(in)
	if err != nil {
		return nil, nil, err
	}
	var res *mask.Result
	var entry *ledger.Entry
	err = daemon.WithDatabase(ctx, app, f.Config, func(_ *config.Base, db *daemon.Database, log *audit.Log, _ *keys.Secrets) error {
		l, err := ledger.New(db.Pool, log, cfg.ApplianceNumber)
		if err != nil {
			return err
		}
		e, err := l.Open(ctx, ledger.Request{Requester: f.Requester, Reason: f.Reason, IssuedBy: "cli",
			SourceName: filepath.Base(in), SourceSHA256: source})
		if err != nil {
			return err
		}
		res, err = render(&mask.Watermark{Key: key, Payload: e.WatermarkPayload()})
		if err == nil {
			var sum [32]byte
			if sum, err = hashFile(out); err == nil {
				entry, err = l.Issue(ctx, e.Serial, sum, res.Frames, res.WatermarkPSNR)
				return err
			}
			os.Remove(out) // a copy the ledger cannot name is not kept
		}
		// Recorded even when the command was interrupted: the serial was taken.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if _, ferr := l.Fail(fctx, e.Serial, err); ferr != nil {
			return errors.Join(err, fmt.Errorf("recording the failure of export %s: %w", e.Payload, ferr))
		}
		return fmt.Errorf("export %s (recorded as failed in the ledger): %w", e.Payload, err)
	})
	return res, entry, err
}

func hashFile(path string) ([32]byte, error) {
	var sum [32]byte
	f, err := os.Open(path)
	if err != nil {
		return sum, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return sum, fmt.Errorf("hashing %s: %w", path, err)
	}
	copy(sum[:], h.Sum(nil))
	return sum, nil
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
			fmt.Fprintf(app.Stdout, "%s  %-9s  %s  %s  %q  %q\n", e.Payload, e.State, e.IssuedAt.Local().Format("2006-01-02 15:04"),
				e.SourceName, e.Requester, e.Reason)
		}
		return nil
	})
}
