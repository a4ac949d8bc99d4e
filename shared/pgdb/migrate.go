package pgdb

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ErrSchemaTooNew reports a database migrated by a newer release than this
// binary: serving it could corrupt data, so the daemon refuses.
var ErrSchemaTooNew = errors.New("pgdb: database schema is newer than this binary")

// ErrSchemaStale reports a database not yet migrated to this binary's schema.
var ErrSchemaStale = errors.New("pgdb: database schema is older than this binary")

// migrationLockID is the pg_advisory_lock key held while migrating, so inner
// nodes sharing one database (DESIGN.md §8) migrate one at a time.
const migrationLockID = 0x5ea19a7e

// Migration is one numbered, forward-only schema change.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Source is a directory of NNNN_name.sql files in a file system.
type Source struct {
	FS  fs.FS
	Dir string
}

// Migrations reads NNNN_name.sql files from dir in fsys. Numbers must run
// 1, 2, 3… without gaps: the number is the schema version the file produces.
func Migrations(fsys fs.FS, dir string) ([]Migration, error) {
	return Collect(Source{FS: fsys, Dir: dir})
}

// Collect reads the migrations of several sources into one sequence: a
// daemon's own files and the schemas of shared packages it uses. Two files
// with one number are refused, as are gaps.
func Collect(sources ...Source) ([]Migration, error) {
	var ms []Migration
	seen := map[int]string{}
	for _, src := range sources {
		entries, err := fs.ReadDir(src.FS, src.Dir)
		if err != nil {
			return nil, fmt.Errorf("pgdb: read migrations: %w", err)
		}
		for _, e := range entries {
			if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
				continue
			}
			num, name, ok := strings.Cut(strings.TrimSuffix(e.Name(), ".sql"), "_")
			v, err := strconv.Atoi(num)
			if !ok || err != nil || v <= 0 {
				return nil, fmt.Errorf("pgdb: migration %s: name must be NNNN_description.sql", e.Name())
			}
			if other, dup := seen[v]; dup {
				return nil, fmt.Errorf("pgdb: migrations %s and %s have the same version %d", other, e.Name(), v)
			}
			seen[v] = e.Name()
			b, err := fs.ReadFile(src.FS, path.Join(src.Dir, e.Name()))
			if err != nil {
				return nil, fmt.Errorf("pgdb: read migration: %w", err)
			}
			ms = append(ms, Migration{Version: v, Name: name, SQL: string(b)})
		}
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	for i, m := range ms {
		if m.Version != i+1 {
			return nil, fmt.Errorf("pgdb: migration %04d_%s: expected version %d (versions must run 1, 2, 3… without gaps)", m.Version, m.Name, i+1)
		}
	}
	return ms, nil
}

// Migrate applies the migrations the database lacks, each in its own
// transaction that also records it, under an advisory lock. It refuses a
// database whose schema is newer than ms.
func Migrate(ctx context.Context, pool *pgxpool.Pool, ms []Migration, appVersion string) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("pgdb: acquire connection: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, migrationLockID); err != nil {
		return fmt.Errorf("pgdb: take migration lock: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, migrationLockID) //nolint:errcheck // the lock also ends with the session
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version     integer PRIMARY KEY,
		name        text NOT NULL,
		applied_at  timestamptz NOT NULL DEFAULT now(),
		app_version text NOT NULL)`); err != nil {
		return fmt.Errorf("pgdb: create schema_migrations: %w", err)
	}
	current, err := schemaVersion(ctx, conn.Conn())
	if err != nil {
		return err
	}
	if current > len(ms) {
		return fmt.Errorf("%w: database at version %d, binary knows %d; run the newer release or restore a matching backup", ErrSchemaTooNew, current, len(ms))
	}
	for _, m := range ms[current:] {
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name, app_version) VALUES ($1, $2, $3)`, m.Version, m.Name, appVersion)
			return err
		})
		if err != nil {
			return fmt.Errorf("pgdb: migration %04d_%s: %w", m.Version, m.Name, err)
		}
	}
	return nil
}

// SchemaVersion returns the highest applied migration, 0 for a new database.
func SchemaVersion(ctx context.Context, pool *pgxpool.Pool) (int, error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return 0, fmt.Errorf("pgdb: acquire connection: %w", err)
	}
	defer conn.Release()
	return schemaVersion(ctx, conn.Conn())
}

func schemaVersion(ctx context.Context, conn *pgx.Conn) (int, error) {
	var v int
	err := conn.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&v)
	if err != nil {
		var exists bool
		if e := conn.QueryRow(ctx, `SELECT to_regclass('schema_migrations') IS NOT NULL`).Scan(&exists); e == nil && !exists {
			return 0, nil
		}
		return 0, fmt.Errorf("pgdb: read schema version: %w", err)
	}
	return v, nil
}

// CheckSchema reports whether the database is at exactly the version ms
// produce: ErrSchemaStale or ErrSchemaTooNew otherwise.
func CheckSchema(ctx context.Context, pool *pgxpool.Pool, ms []Migration) error {
	v, err := SchemaVersion(ctx, pool)
	if err != nil {
		return err
	}
	switch {
	case v < len(ms):
		return fmt.Errorf("%w: database at version %d, binary needs %d", ErrSchemaStale, v, len(ms))
	case v > len(ms):
		return fmt.Errorf("%w: database at version %d, binary knows %d", ErrSchemaTooNew, v, len(ms))
	}
	return nil
}

// MustMigrations is Collect for files embedded in the binary, which are
// fixed at build time: a malformed set panics, and each daemon's store test
// proves its set parses and applies.
func MustMigrations(sources ...Source) []Migration {
	ms, err := Collect(sources...)
	if err != nil {
		panic(err)
	}
	return ms
}
