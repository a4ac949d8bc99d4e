// Package pgdb opens the daemons' PostgreSQL databases: a pgx pool that is
// pinged at once, schema migrations embedded in the binary and applied at
// start, and a check that refuses a schema the binary does not match.
//
// # Migrations
//
// Each owner of tables (shared/account, shared/audit, a daemon's store,
// inner/review) embeds its own numbered, forward-only files (0001_init.sql,
// 0002_….sql); the number is the version of that owner's schema the file
// produces. [Migrate] applies the missing ones under pg_advisory_lock, in
// the order the owners are given, each in a transaction that also records
// (schema, version) in schema_migrations with the binary's version.
//
// # Roles
//
// The daemon serves as a role that does not own the schema. [Setup], run
// as the owner, migrates and grants the serving role DML on the tables but
// only SELECT and INSERT on the owners' append-only tables (the audit log),
// so what the daemon can do to the database cannot rewrite its history.
package pgdb

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// DefaultMaxConns is the pool's size unless the database URL sets
// pool_max_conns.
const DefaultMaxConns = 16

// Open connects to url, pings the server (pgxpool.New does not connect),
// applies migrations if the schema is behind the binary and confirms it
// then matches. A schema already up to date is not touched, so url may be
// the serving role's, which may not create tables: the owner ran [Setup].
func Open(ctx context.Context, url string, ms []Migration, appVersion string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("pgdb: parse database url: %w", err)
	}
	if !strings.Contains(url, "pool_max_conns") {
		// pgx's default (4 on 2 cores) is too few: the console's LISTEN
		// and River's notifier each hold one for good, and a console
		// request, a pipeline stage and its heartbeat run beside them.
		cfg.MaxConns = DefaultMaxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("pgdb: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("pgdb: connect to %s: %w", redacted(cfg), err)
	}
	if err := CheckSchema(ctx, pool, ms); errors.Is(err, ErrSchemaStale) {
		if err := Migrate(ctx, pool, ms, appVersion); err != nil {
			pool.Close()
			if pe := (*pgconn.PgError)(nil); errors.As(err, &pe) && pe.Code == "42501" { // insufficient_privilege
				err = fmt.Errorf("%w (the schema needs migrating, which %s may not do: run the migrations as the schema's owner, see docs/operations.md)", err, redacted(cfg))
			}
			return nil, err
		}
	}
	if err := CheckSchema(ctx, pool, ms); err != nil {
		pool.Close()
		return nil, err
	}
	return pool, nil
}

// redacted names the server without its password, for error messages.
func redacted(cfg *pgxpool.Config) string {
	c := cfg.ConnConfig
	return fmt.Sprintf("database %q on %s as %q", c.Database, c.Host, c.User)
}
