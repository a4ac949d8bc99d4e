package pgdb

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Setup is what the owner role does at every start: it applies the missing
// migrations (as [Migrate]) and then grants the serving role app what the
// daemon needs, under the same advisory lock. The owner keeps DDL, and app
// gets SELECT, INSERT, UPDATE and DELETE on every table (TRUNCATE on none),
// except that schema_migrations is read-only to it and the owners'
// append-only tables (Source.AppendOnly: the audit log) take INSERT and
// SELECT only. Default privileges give app the same on tables and sequences
// later migrations create, and the append-only revocation is stated again
// on every run, so a table an owner recreates is covered too.
func Setup(ctx context.Context, owner *pgxpool.Pool, ms []Migration, appVersion, app string) error {
	if app == "" {
		return errors.New("pgdb: no serving role to grant to")
	}
	return migrate(ctx, owner, ms, appVersion, func(ctx context.Context, conn *pgx.Conn) error {
		return grant(ctx, conn, ms, app)
	})
}

func grant(ctx context.Context, conn *pgx.Conn, ms []Migration, app string) error {
	var schema string
	if err := conn.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return fmt.Errorf("pgdb: grant: %w", err)
	}
	s, r := pgx.Identifier{schema}.Sanitize(), pgx.Identifier{app}.Sanitize()
	stmts := []string{
		`GRANT USAGE ON SCHEMA ` + s + ` TO ` + r,
		`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ` + s + ` TO ` + r,
		`GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA ` + s + ` TO ` + r,
		`ALTER DEFAULT PRIVILEGES IN SCHEMA ` + s + ` GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ` + r,
		`ALTER DEFAULT PRIVILEGES IN SCHEMA ` + s + ` GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO ` + r,
		`REVOKE INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON schema_migrations FROM PUBLIC, ` + r,
	}
	for _, t := range appendOnly(ms) {
		stmts = append(stmts, `REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON `+pgx.Identifier{t}.Sanitize()+` FROM PUBLIC, `+r)
	}
	err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		for _, sql := range stmts {
			if _, err := tx.Exec(ctx, sql); err != nil {
				return fmt.Errorf("%s: %w", sql, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("pgdb: grant %s its privileges: %w", app, err)
	}
	return nil
}

// appendOnly is the append-only tables of the owners in ms.
func appendOnly(ms []Migration) []string {
	var ts []string
	for _, m := range ms {
		for _, t := range m.AppendOnly {
			if !slices.Contains(ts, t) {
				ts = append(ts, t)
			}
		}
	}
	return ts
}

// CanRewrite reports the append-only tables in ms the connected role could
// change or remove rows of, because it owns them or holds UPDATE, DELETE or
// TRUNCATE: a database URL whose role is the owner's, or a superuser's.
func CanRewrite(ctx context.Context, pool *pgxpool.Pool, ms []Migration) ([]string, error) {
	var bad []string
	for _, t := range appendOnly(ms) {
		var can bool
		err := pool.QueryRow(ctx, `SELECT coalesce((SELECT pg_has_role(relowner, 'USAGE') OR has_table_privilege(oid, 'UPDATE')
			OR has_table_privilege(oid, 'DELETE') OR has_table_privilege(oid, 'TRUNCATE') FROM pg_class WHERE oid = to_regclass($1)), false)`, t).Scan(&can)
		if err != nil {
			return nil, fmt.Errorf("pgdb: privileges on %s: %w", t, err)
		}
		if can {
			bad = append(bad, t)
		}
	}
	return bad, nil
}
