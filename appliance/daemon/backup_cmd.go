package daemon

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"filippo.io/age"
	"github.com/jackc/pgx/v5"

	"sealgate/appliance/cli"
	"sealgate/shared/atomicfile"
	"sealgate/shared/audit"
	"sealgate/shared/backup"
	"sealgate/shared/buildinfo"
	"sealgate/shared/config"
	"sealgate/shared/keys"
	"sealgate/shared/pgcluster"
	"sealgate/shared/pgdb"
)

// BackupCmds are `backup` and `restore`, embedded in each daemon's command
// tree (docs/backup.md).
type BackupCmds struct {
	Backup  BackupCmd  `cmd:"" help:"Write an encrypted archive of the database and the keys (docs/backup.md); the daemon may run."`
	Restore RestoreCmd `cmd:"" help:"Replace the database and the keys with an archive's, once it has checked out whole; the daemon must be stopped."`
}

// BackupCmd writes a backup archive.
type BackupCmd struct {
	ConfigFlag
	Out            string `required:"" help:"Archive to write (an existing file is never replaced); keep it off the appliance."`
	Recipient      string `xor:"key" required:"" type:"existingfile" help:"age recipients file (age1… public keys, one a line, from age-keygen): only the holder of the matching identity can restore."`
	PassphraseFile string `xor:"key" required:"" type:"existingfile" help:"File (mode 0600) whose first line is the passphrase to encrypt with, at least 16 characters."`
	JSON           bool   `help:"Print one JSON object."`
}

// Run audits the backup, so the archive holds its own entry, then writes
// the manifest, the key files and the dump, streamed.
func (c *BackupCmd) Run(ctx context.Context, app *App) error {
	var (
		rs  []age.Recipient
		how string
		err error
	)
	if c.Recipient != "" {
		rs, err = backup.Recipients(c.Recipient)
		how = fmt.Sprintf("age recipients of %s", filepath.Base(c.Recipient))
	} else {
		var r age.Recipient
		r, err = backup.PassphraseRecipient(c.PassphraseFile)
		rs, how = []age.Recipient{r}, "a passphrase"
	}
	if err != nil {
		return err
	}
	appliance, err := applianceNumber(app, c.Config)
	if err != nil {
		return err
	}
	out, err := atomicfile.Create(c.Out, 0o600)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer out.Abort() //nolint:errcheck // after Commit it does nothing
	return WithDatabase(ctx, app, c.Config, func(base *config.Base, db *Database, log *audit.Log, _ *keys.Secrets) error {
		pgDump, err := pgcluster.FindProgram(base.Database.Private.BinDir, "pg_dump")
		if err != nil {
			return err
		}
		target, err := dumpTarget(base)
		if err != nil {
			return err
		}
		actor := cliActor()
		entry := audit.Entry{Actor: actor.Name, Remote: actor.Remote, Action: "backup.create", Target: absPath(c.Out), Detail: "encrypted to " + how}
		if err := log.Append(ctx, entry); err != nil {
			return err
		}
		schema, err := pgdb.SchemaVersions(ctx, db.Pool)
		if err != nil {
			return err
		}
		m := backup.Manifest{Kind: kindOf(app), Appliance: appliance, Software: buildinfo.Version, Created: time.Now().UTC(), Schema: schema}
		res, err := writeArchive(ctx, out, m, rs, base.KeyDir, pgDump, target)
		if err != nil {
			entry.Outcome, entry.Detail = audit.Failed, err.Error()
			return errors.Join(err, log.Append(context.WithoutCancel(ctx), entry))
		}
		if err := out.Commit(); err != nil {
			return fmt.Errorf("backup: %w", err)
		}
		if c.JSON {
			return cli.PrintJSON(app.Stdout, map[string]any{"file": c.Out, "sha256": res.sum, "size": res.size, "format": backup.Format,
				"kind": m.Kind, "created": m.Created, "keys": res.keys, "database_bytes": res.dump})
		}
		fmt.Fprintf(app.Stdout, "wrote %s (%d bytes, sha256:%s): %d key files and the database (%d bytes of dump), encrypted to %s\n"+
			"footage, renders and packages are not in it: back them up as files (docs/backup.md)\n",
			c.Out, res.size, res.sum, res.keys, res.dump, how)
		return nil
	})
}

type written struct {
	sum        string
	size, dump int64
	keys       int
}

// writeArchive writes the archive to w: memory stays at one dump part
// and the buffers, however big the database.
func writeArchive(ctx context.Context, w io.Writer, m backup.Manifest, rs []age.Recipient, keyDir, pgDump string, t pgTarget) (written, error) {
	var res written
	h := sha256.New()
	cw := &countWriter{w: io.MultiWriter(w, h)}
	bw := bufio.NewWriterSize(cw, 1<<20)
	aw, err := backup.NewWriter(bw, m, rs...)
	if err != nil {
		return res, err
	}
	if res.keys, err = addKeys(aw, keyDir); err != nil {
		return res, err
	}
	if res.dump, err = dump(ctx, pgDump, t, aw.AddDatabase); err != nil {
		return res, err
	}
	if err := aw.Close(); err != nil {
		return res, err
	}
	if err := bw.Flush(); err != nil {
		return res, fmt.Errorf("backup: %w", err)
	}
	res.sum, res.size = hex.EncodeToString(h.Sum(nil)), cw.n
	return res, nil
}

// addKeys adds the key directory's regular files with their modes.
func addKeys(w *backup.Writer, dir string) (int, error) {
	es, err := os.ReadDir(dir)
	if err != nil {
		return 0, fmt.Errorf("backup: key_dir: %w", err)
	}
	n := 0
	for _, e := range es {
		if !e.Type().IsRegular() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		f, err := os.Open(filepath.Join(dir, e.Name()))
		if err != nil {
			return n, fmt.Errorf("backup: %w", err)
		}
		fi, err := f.Stat()
		if err == nil {
			err = w.AddFile(e.Name(), fi.Mode(), fi.Size(), f)
		}
		f.Close()
		if err != nil {
			return n, err
		}
		n++
	}
	if n == 0 {
		return 0, fmt.Errorf("backup: no key files in %s", dir)
	}
	return n, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// kindOf is "inner" or "outer".
func kindOf(app *App) string { return strings.TrimPrefix(app.Name, "sealgate-") }

// applianceNumber is the inner's appliance_number (it is in every
// watermark, so an archive restores only onto the same number); 0 for the
// outer, which has none.
func applianceNumber(app *App, path string) (int, error) {
	if kindOf(app) != "inner" {
		return 0, nil
	}
	c, err := config.LoadInner(path, app.Environ)
	if err != nil {
		return 0, err
	}
	return c.ApplianceNumber, nil
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// RestoreCmd replaces the database and the keys with an archive's.
type RestoreCmd struct {
	ConfigFlag
	In             string `required:"" type:"existingfile" help:"Archive written by backup."`
	Identity       string `xor:"key" required:"" type:"existingfile" help:"age identity file (AGE-SECRET-KEY-1…) of a recipient the archive was encrypted to."`
	PassphraseFile string `xor:"key" required:"" type:"existingfile" help:"File (mode 0600) whose first line is the archive's passphrase."`
	OwnerURL       string `env:"${owner_url_env}" help:"External database: URL of the schema's owner to restore as (default: database.url; prefer the environment variable)."`
	JSON           bool   `help:"Print one JSON object."`
}

// Run checks the whole archive into a private staging directory first;
// only once it decrypted, every sum matched, the manifest fits this daemon
// and the keys load does it replace the database, then the keys, migrate,
// and audit the restore in the restored chain.
func (c *RestoreCmd) Run(ctx context.Context, app *App) error {
	base, err := app.LoadConfig(c.Config, app.Environ)
	if err != nil {
		return err
	}
	var ids []age.Identity
	if c.Identity != "" {
		ids, err = backup.Identities(c.Identity)
	} else {
		var id age.Identity
		id, err = backup.PassphraseIdentity(c.PassphraseFile)
		ids = []age.Identity{id}
	}
	if err != nil {
		return err
	}
	appliance, err := applianceNumber(app, c.Config)
	if err != nil {
		return err
	}
	pgRestore, err := pgcluster.FindProgram(base.Database.Private.BinDir, "pg_restore")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(base.DataDir, 0o711); err != nil {
		return fmt.Errorf("restore: create data_dir: %w", err)
	}
	unlock, err := lockDataDir(base.DataDir)
	if err != nil {
		return fmt.Errorf("restore refused: %w (%s serve must be stopped)", err, app.Name)
	}
	defer unlock()
	if pid, running := pgcluster.RunningPID(base.PrivateDatabaseDir()); running && base.Database.URL == "" {
		return fmt.Errorf("restore refused: the private database is running (postgres pid %d): stop %s and every command using it first", pid, app.Name)
	}

	// Under the lock, a staging directory left is a killed restore's, with
	// keys in clear: gone before this one starts.
	if stale, _ := filepath.Glob(filepath.Join(base.DataDir, ".restore-*")); len(stale) > 0 {
		for _, d := range stale {
			if err := os.RemoveAll(d); err != nil {
				return fmt.Errorf("restore: remove an earlier restore's staging: %w", err)
			}
		}
	}
	stage, err := os.MkdirTemp(base.DataDir, ".restore-*") // 0700, beside the data it replaces
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer os.RemoveAll(stage)
	f, err := os.Open(c.In)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	got, err := backup.Extract(io.TeeReader(bufio.NewReaderSize(f, 1<<20), h), stage, func(m backup.Manifest) error {
		return fits(app, m, appliance)
	}, ids...)
	if err != nil {
		return fmt.Errorf("restore refused, nothing changed: %w", err)
	}
	if _, err := app.LoadSecrets(got.KeyDir); err != nil {
		return fmt.Errorf("restore refused, nothing changed: the archive's keys do not load: %w", err)
	}
	sum := hex.EncodeToString(h.Sum(nil))

	// Verified: from here on the database and the keys are replaced.
	log := slog.New(slog.NewJSONHandler(app.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})) // as WithDatabase's
	var db *Database
	if base.Database.URL == "" {
		db, err = restorePrivate(ctx, base, app.Migrations, pgRestore, got.Dump, log)
	} else {
		owner := c.OwnerURL
		if owner == "" {
			owner = base.Database.URL
		}
		if err = restoreExternal(ctx, owner, pgRestore, got.Dump); err == nil && c.OwnerURL != "" {
			err = grantServing(ctx, base.Database.URL, c.OwnerURL, app)
		} else if err != nil && c.OwnerURL == "" {
			err = fmt.Errorf("%w (as database.url's role; a serving role may not replace the schema: give the owner's with --owner-url)", err)
		}
		if err == nil {
			db, err = OpenDatabase(ctx, base, app.Migrations, Tool, log)
		}
	}
	if err != nil {
		return fmt.Errorf("restore: the keys were not replaced: %w", err)
	}
	defer db.Close()
	old, err := replaceKeyDir(base.KeyDir, got)
	if err != nil {
		return fmt.Errorf("restore: the database was restored but the keys were not (restore again): %w", err)
	}
	secrets, err := app.LoadSecrets(base.KeyDir)
	if err != nil {
		return fmt.Errorf("restore: the restored keys: %w", err)
	}
	alog := audit.New(db.Pool, secrets.Audit)
	entries, err := alog.Verify(ctx)
	if err != nil {
		return fmt.Errorf("restore: the restored audit chain: %w", err)
	}
	// The last anchor is of the chain that was replaced: the restored one
	// is shorter, and anchoring would report it truncated forever. Kept
	// aside, named in the entry: what was lost since the backup is on record.
	detail := fmt.Sprintf("archive sha256:%s, made %s by %s", sum, got.Manifest.Created.Format(time.RFC3339), got.Manifest.Software)
	if prev, ok, err := audit.ReadAnchorFile(base.Audit.AnchorFile); err == nil && ok {
		aside := base.Audit.AnchorFile + ".replaced-" + time.Now().UTC().Format("20060102T150405Z")
		if err := os.Rename(base.Audit.AnchorFile, aside); err != nil {
			return fmt.Errorf("restore: set the replaced chain's anchor aside: %w", err)
		}
		detail += fmt.Sprintf("; the replaced chain's last anchor (entry %d of %s) kept as %s", prev.Seq, prev.AnchoredAt.Format(time.RFC3339), aside)
	}
	actor := cliActor()
	if err := alog.Append(ctx, audit.Entry{Actor: actor.Name, Remote: actor.Remote, Action: "backup.restore", Target: absPath(c.In),
		Detail: detail}); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	entries++
	if c.JSON {
		return cli.PrintJSON(app.Stdout, map[string]any{"file": c.In, "sha256": sum, "created": got.Manifest.Created, "software_version": got.Manifest.Software,
			"keys": len(got.Keys), "database_bytes": got.DumpSize, "audit_entries": entries, "previous_keys": old})
	}
	fmt.Fprintf(app.Stdout, "restored %s (made %s by %s): %d key files into %s, the database (%d bytes of dump); audit chain intact, %d entries\n",
		c.In, got.Manifest.Created.Format(time.RFC3339), got.Manifest.Software, len(got.Keys), base.KeyDir, got.DumpSize, entries)
	if old != "" {
		fmt.Fprintf(app.Stdout, "the previous keys are in %s: remove it once the daemon runs\n", old)
	}
	fmt.Fprintln(app.Stdout, "footage, renders and packages are not in backups: put their files back (docs/backup.md)")
	return nil
}

// fits refuses an archive of the other daemon, another appliance number,
// or a database newer than this binary migrates.
func fits(app *App, m backup.Manifest, appliance int) error {
	if kind := kindOf(app); m.Kind != kind {
		return fmt.Errorf("the archive is a backup of sealgate-%s; this is %s", m.Kind, app.Name)
	}
	if m.Appliance != appliance {
		return fmt.Errorf("the archive is of appliance_number %d, the configuration says %d: the watermarks of its exports name %d", m.Appliance, appliance, m.Appliance)
	}
	want := map[string]int{}
	for _, mg := range app.Migrations {
		want[mg.Schema] = max(want[mg.Schema], mg.Version)
	}
	for s, v := range m.Schema {
		if v > want[s] {
			return fmt.Errorf("%w: the archive's %s schema is at version %d, this %s (%s) knows %d: restore with %s or newer",
				pgdb.ErrSchemaTooNew, s, v, app.Name, buildinfo.Version, want[s], m.Software)
		}
	}
	return nil
}

// grantServing migrates as the owner and grants database.url's role, as
// `database migrate` does.
func grantServing(ctx context.Context, servingURL, ownerURL string, app *App) error {
	serving, err := pgx.ParseConfig(servingURL)
	if err != nil {
		return fmt.Errorf("parse database.url: %w", err)
	}
	return Setup(ctx, ownerURL, serving.User, app.Migrations)
}
