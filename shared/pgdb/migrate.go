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

// ErrLegacySchema reports a database laid out before each owner numbered
// its own migrations (one sequence for the whole database). No release
// shipped with that layout; such a database is recreated, not converted.
var ErrLegacySchema = errors.New("pgdb: the database predates per-owner migration numbering: recreate it (for `make run`, remove var/demo)")

// migrationLockID is the pg_advisory_lock key held while migrating, so inner
// nodes sharing one database (docs/architecture.md, "Database") migrate one
// at a time.
const migrationLockID = 0x5ea19a7e

// Migration is one numbered, forward-only change of one owner's schema.
type Migration struct {
	Schema  string // the owner: "account", "audit", "inner", "review"…
	Version int    // 1, 2, 3… within Schema
	Name    string
	SQL     string
	// AppendOnly is the owner's tables whose rows the serving role may only
	// read and insert (Source.AppendOnly), granted by [Setup].
	AppendOnly []string
}

// Source is one owner's directory of NNNN_name.sql files in a file system.
// Each owner numbers its own files 1, 2, 3… without gaps, so a package that
// adds a migration never collides with another's.
type Source struct {
	Schema string
	FS     fs.FS
	Dir    string
	// AppendOnly names tables of this owner that the serving role may read
	// and insert into but never update, delete from or truncate.
	AppendOnly []string
}

// Migrations reads the NNNN_name.sql files of schema from dir in fsys.
func Migrations(schema string, fsys fs.FS, dir string) ([]Migration, error) {
	return Collect(Source{Schema: schema, FS: fsys, Dir: dir})
}

// Collect reads the migrations of several owners, in the order given (an
// owner whose tables others reference comes first: account before audit
// before a daemon's own). Within an owner two files with one number are
// refused, as are gaps; two sources of one owner are refused.
func Collect(sources ...Source) ([]Migration, error) {
	var all []Migration
	owners := map[string]bool{}
	for _, src := range sources {
		if src.Schema == "" || owners[src.Schema] {
			return nil, fmt.Errorf("pgdb: migrations of %q: every source needs a schema name of its own", src.Schema)
		}
		owners[src.Schema] = true
		ms, err := read(src)
		if err != nil {
			return nil, err
		}
		all = append(all, ms...)
	}
	return all, nil
}

func read(src Source) ([]Migration, error) {
	entries, err := fs.ReadDir(src.FS, src.Dir)
	if err != nil {
		return nil, fmt.Errorf("pgdb: read %s migrations: %w", src.Schema, err)
	}
	var ms []Migration
	seen := map[int]string{}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		num, name, ok := strings.Cut(strings.TrimSuffix(e.Name(), ".sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("pgdb: %s migration %s: name must be NNNN_description.sql", src.Schema, e.Name())
		}
		if other, dup := seen[v]; dup {
			return nil, fmt.Errorf("pgdb: %s migrations %s and %s have the same version %d", src.Schema, other, e.Name(), v)
		}
		seen[v] = e.Name()
		b, err := fs.ReadFile(src.FS, path.Join(src.Dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("pgdb: read migration: %w", err)
		}
		ms = append(ms, Migration{Schema: src.Schema, Version: v, Name: name, SQL: string(b), AppendOnly: src.AppendOnly})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	for i, m := range ms {
		if m.Version != i+1 {
			return nil, fmt.Errorf("pgdb: %s migration %04d_%s: expected version %d (versions must run 1, 2, 3… without gaps)", m.Schema, m.Version, m.Name, i+1)
		}
	}
	return ms, nil
}

// latest is the number of migrations ms holds per schema.
func latest(ms []Migration) map[string]int {
	n := map[string]int{}
	for _, m := range ms {
		n[m.Schema] = max(n[m.Schema], m.Version)
	}
	return n
}

// Migrate applies the migrations the database lacks, in ms's order, each
// in its own transaction that also records it, under an advisory lock. It
// refuses a database where an owner's schema is newer than ms knows.
func Migrate(ctx context.Context, pool *pgxpool.Pool, ms []Migration, appVersion string) error {
	return migrate(ctx, pool, ms, appVersion, nil)
}

// migrate is Migrate, then after (if set) under the same lock.
func migrate(ctx context.Context, pool *pgxpool.Pool, ms []Migration, appVersion string, after func(context.Context, *pgx.Conn) error) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("pgdb: acquire connection: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, migrationLockID); err != nil {
		return fmt.Errorf("pgdb: take migration lock: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, migrationLockID) //nolint:errcheck // the lock also ends with the session
	if err := checkLayout(ctx, conn.Conn()); err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		schema      text NOT NULL,
		version     integer NOT NULL,
		name        text NOT NULL,
		applied_at  timestamptz NOT NULL DEFAULT now(),
		app_version text NOT NULL,
		PRIMARY KEY (schema, version))`); err != nil {
		return fmt.Errorf("pgdb: create schema_migrations: %w", err)
	}
	current, err := versions(ctx, conn.Conn())
	if err != nil {
		return err
	}
	if err := compare(current, latest(ms), true); err != nil {
		return err
	}
	for _, m := range ms {
		if m.Version <= current[m.Schema] {
			continue
		}
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (schema, version, name, app_version) VALUES ($1, $2, $3, $4)`,
				m.Schema, m.Version, m.Name, appVersion)
			return err
		})
		if err != nil {
			return fmt.Errorf("pgdb: %s migration %04d_%s: %w", m.Schema, m.Version, m.Name, err)
		}
	}
	if after != nil {
		return after(ctx, conn.Conn())
	}
	return nil
}

// checkLayout refuses a schema_migrations table of the old single-sequence
// layout.
func checkLayout(ctx context.Context, conn *pgx.Conn) error {
	var legacy bool
	err := conn.QueryRow(ctx, `SELECT to_regclass('schema_migrations') IS NOT NULL AND NOT EXISTS (
		SELECT 1 FROM information_schema.columns WHERE table_name = 'schema_migrations' AND column_name = 'schema'
		AND table_schema = current_schema())`).Scan(&legacy)
	if err != nil {
		return fmt.Errorf("pgdb: read schema_migrations: %w", err)
	}
	if legacy {
		return ErrLegacySchema
	}
	return nil
}

// SchemaVersions returns the highest applied migration of each owner; a
// new database has none.
func SchemaVersions(ctx context.Context, pool *pgxpool.Pool) (map[string]int, error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("pgdb: acquire connection: %w", err)
	}
	defer conn.Release()
	return versions(ctx, conn.Conn())
}

func versions(ctx context.Context, conn *pgx.Conn) (map[string]int, error) {
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT to_regclass('schema_migrations') IS NOT NULL`).Scan(&exists); err != nil {
		return nil, fmt.Errorf("pgdb: read schema versions: %w", err)
	}
	v := map[string]int{}
	if !exists {
		return v, nil
	}
	if err := checkLayout(ctx, conn); err != nil {
		return nil, err
	}
	rows, err := conn.Query(ctx, `SELECT schema, max(version) FROM schema_migrations GROUP BY schema`)
	if err != nil {
		return nil, fmt.Errorf("pgdb: read schema versions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			schema string
			n      int
		)
		if err := rows.Scan(&schema, &n); err != nil {
			return nil, fmt.Errorf("pgdb: read schema versions: %w", err)
		}
		v[schema] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pgdb: read schema versions: %w", err)
	}
	return v, nil
}

// compare reports an owner whose schema in the database (have) is newer
// than the binary's (want) and, unless olderOK, one that is older.
func compare(have, want map[string]int, olderOK bool) error {
	owners := make([]string, 0, len(have)+len(want))
	for s := range have {
		owners = append(owners, s)
	}
	for s := range want {
		if _, ok := have[s]; !ok {
			owners = append(owners, s)
		}
	}
	sort.Strings(owners)
	for _, s := range owners {
		switch h, w := have[s], want[s]; {
		case h > w:
			return fmt.Errorf("%w: %s schema at version %d, binary knows %d; run the newer release or restore a matching backup", ErrSchemaTooNew, s, h, w)
		case h < w && !olderOK:
			return fmt.Errorf("%w: %s schema at version %d, binary needs %d", ErrSchemaStale, s, h, w)
		}
	}
	return nil
}

// CheckSchema reports whether every owner's schema is at exactly the
// version ms produce: ErrSchemaStale or ErrSchemaTooNew otherwise.
func CheckSchema(ctx context.Context, pool *pgxpool.Pool, ms []Migration) error {
	have, err := SchemaVersions(ctx, pool)
	if err != nil {
		return err
	}
	return compare(have, latest(ms), false)
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
