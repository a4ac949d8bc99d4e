package daemon

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"sealgate/shared/atomicfile"
	"sealgate/shared/backup"
	"sealgate/shared/config"
	"sealgate/shared/pgcluster"
	"sealgate/shared/pgdb"
)

// pgTarget is a database as pg_dump and pg_restore are given it: a libpq
// connection string without the password, which goes in the environment
// so that ps does not show it.
type pgTarget struct {
	conn string
	env  []string
}

// libpqTarget turns a database URL as the daemon takes it (pgx's) into a
// pgTarget: the password moves to PGPASSWORD, and pgx's own parameters,
// which libpq refuses, are dropped.
func libpqTarget(raw string) (pgTarget, error) {
	if !strings.HasPrefix(raw, "postgres://") && !strings.HasPrefix(raw, "postgresql://") {
		return pgTarget{conn: raw}, nil // keyword=value: libpq reads it as it is
	}
	u, err := url.Parse(raw)
	if err != nil {
		return pgTarget{}, fmt.Errorf("parse database url: %w", err)
	}
	var t pgTarget
	if u.User != nil {
		if pw, ok := u.User.Password(); ok {
			t.env = append(t.env, "PGPASSWORD="+pw)
			u.User = url.User(u.User.Username())
		}
	}
	q := u.Query()
	for k := range q {
		if strings.HasPrefix(k, "pool_") || pgxOnly[k] {
			q.Del(k)
		}
	}
	u.RawQuery = q.Encode()
	t.conn = u.String()
	return t, nil
}

// pgxOnly are the connection parameters pgx reads and libpq does not know.
var pgxOnly = map[string]bool{"statement_cache_capacity": true, "description_cache_capacity": true,
	"default_query_exec_mode": true, "min_read_buffer_size": true, "servicefile": true}

// pgProgram runs a PostgreSQL client program; its standard error is kept
// for the error message.
func pgProgram(ctx context.Context, path string, t pgTarget, args ...string) (*exec.Cmd, *bytes.Buffer) {
	cmd := exec.CommandContext(ctx, path, append([]string{"--no-password", "--dbname=" + t.conn}, args...)...)
	cmd.Env = append(os.Environ(), t.env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	return cmd, &stderr
}

// dumpTarget is the database a backup dumps: the private cluster's, as
// its owner, or database.url's.
func dumpTarget(b *config.Base) (pgTarget, error) {
	if b.Database.URL == "" {
		return pgTarget{conn: pgcluster.RoleURL(b.PrivateDatabaseDir(), privateDatabase, pgcluster.OwnerRole)}, nil
	}
	return libpqTarget(b.Database.URL)
}

// dump streams pg_dump --format=custom of t into add.
func dump(ctx context.Context, pgDump string, t pgTarget, add func(io.Reader) (int64, error)) (int64, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // stops pg_dump if add fails
	cmd, stderr := pgProgram(ctx, pgDump, t, "--format=custom")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return 0, err
	}
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("start pg_dump: %w", err)
	}
	n, addErr := add(out)
	if addErr != nil {
		cancel()
	}
	if err := cmd.Wait(); err != nil && addErr == nil {
		return n, fmt.Errorf("pg_dump: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return n, addErr
}

// restoreTmp is the database a private restore loads first; it becomes
// the daemon's only once pg_restore has committed.
const restoreTmp = "sealgate_restore"

// restorePrivate loads the dump into a fresh database of the private
// cluster (initialised now if there is none) and puts it in place of the
// old one, which stays as it was if pg_restore fails. It returns the
// restored database migrated and open, its cluster running for the
// caller's Close.
func restorePrivate(ctx context.Context, b *config.Base, ms []pgdb.Migration, pgRestore, dumpFile string, log *slog.Logger) (*Database, error) {
	dir := b.PrivateDatabaseDir()
	cluster, err := pgcluster.Start(ctx, pgcluster.Options{Dir: dir, BinDir: b.Database.Private.BinDir, User: b.Database.Private.User, Database: privateDatabase, Log: log})
	if err != nil {
		return nil, err
	}
	if err := loadPrivate(ctx, dir, pgRestore, dumpFile); err != nil {
		return nil, errors.Join(fmt.Errorf("the database was not replaced: %w", err), cluster.Close())
	}
	pool, err := openPrivate(ctx, dir, ms)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("migrate the restored database: %w", err), cluster.Close())
	}
	return &Database{Pool: pool, cluster: cluster}, nil
}

// loadPrivate is restorePrivate's work in the running cluster in dir.
func loadPrivate(ctx context.Context, dir, pgRestore, dumpFile string) error {
	super, err := pgx.Connect(ctx, pgcluster.SocketURL(dir, "postgres"))
	if err != nil {
		return fmt.Errorf("connect to the private database: %w", err)
	}
	defer super.Close(ctx)
	tmp, owner := pgx.Identifier{restoreTmp}.Sanitize(), pgx.Identifier{pgcluster.OwnerRole}.Sanitize()
	for _, sql := range []string{`DROP DATABASE IF EXISTS ` + tmp + ` WITH (FORCE)`, `CREATE DATABASE ` + tmp + ` OWNER ` + owner} {
		if _, err := super.Exec(ctx, sql); err != nil {
			return fmt.Errorf("prepare the database to restore into: %w", err)
		}
	}
	if err := pgcluster.Adopt(ctx, super, dir, restoreTmp); err != nil {
		return err
	}
	// As the owner, without the dump's owners and grants: the owner owns
	// what it loads, and the migrations grant the app role afterwards.
	t := pgTarget{conn: pgcluster.RoleURL(dir, restoreTmp, pgcluster.OwnerRole)}
	if err := runRestore(ctx, pgRestore, t, dumpFile); err != nil {
		_, _ = super.Exec(ctx, `DROP DATABASE IF EXISTS `+tmp+` WITH (FORCE)`)
		return err
	}
	for _, sql := range []string{`DROP DATABASE IF EXISTS ` + pgx.Identifier{privateDatabase}.Sanitize() + ` WITH (FORCE)`,
		`ALTER DATABASE ` + tmp + ` RENAME TO ` + pgx.Identifier{privateDatabase}.Sanitize()} {
		if _, err := super.Exec(ctx, sql); err != nil {
			return fmt.Errorf("put the restored database in place: %w", err)
		}
	}
	return nil
}

// restoreExternal loads the dump into the configured server's database
// over what is there (--clean --if-exists), in one transaction: a failure
// leaves the database as it was.
func restoreExternal(ctx context.Context, ownerURL, pgRestore, dumpFile string) error {
	t, err := libpqTarget(ownerURL)
	if err != nil {
		return err
	}
	if err := runRestore(ctx, pgRestore, t, dumpFile, "--clean", "--if-exists"); err != nil {
		return fmt.Errorf("the database was not replaced: %w", err)
	}
	return nil
}

func runRestore(ctx context.Context, pgRestore string, t pgTarget, dumpFile string, extra ...string) error {
	args := append([]string{"--single-transaction", "--exit-on-error", "--no-owner", "--no-privileges"}, extra...)
	cmd, stderr := pgProgram(ctx, pgRestore, t, append(args, dumpFile)...)
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("pg_restore: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// replaceKeyDir puts the archive's key files in place of key_dir: written
// into a new directory beside it (0700; the files with their archived
// modes, private keys 0600), which is then renamed over. The previous
// directory is kept under a .replaced-TIME name, returned, for the
// operator to remove once the daemon runs.
func replaceKeyDir(keyDir string, got *backup.Contents) (old string, err error) {
	parent := filepath.Dir(keyDir)
	if err := os.MkdirAll(parent, 0o711); err != nil {
		return "", err
	}
	tmp, err := os.MkdirTemp(parent, ".keys-restore-*")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp) // gone by rename when all went well
	for _, k := range got.Keys {
		b, err := os.ReadFile(filepath.Join(got.KeyDir, k.Name))
		if err != nil {
			return "", err
		}
		if err := atomicfile.WriteFile(filepath.Join(tmp, k.Name), b, k.Mode); err != nil {
			return "", err
		}
	}
	if _, err := os.Lstat(keyDir); err == nil {
		old = keyDir + ".replaced-" + time.Now().UTC().Format("20060102T150405Z")
		if err := os.Rename(keyDir, old); err != nil {
			return "", err
		}
	}
	if err := os.Rename(tmp, keyDir); err != nil {
		if old != "" {
			err = errors.Join(err, os.Rename(old, keyDir))
		}
		return "", err
	}
	return old, atomicfile.SyncDir(parent)
}
