package pgcluster

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// The roles of a private cluster. The superuser only administers the
// cluster (roles, databases); the owner owns the schema and runs the
// migrations; the daemon serves as the app role, which may read and write
// what the migrations grant it and nothing more: it cannot alter, disable
// the triggers of, or rewrite the audit log (docs/operations.md).
const (
	OwnerRole = "sealgate_owner"
	AppRole   = "sealgate_app"
)

// RoleURL is the connection string for database db of the cluster in dir,
// as role.
func RoleURL(dir, db, role string) string { return socketURL(dir, db, role) }

// OwnerURL is the connection string for the cluster's database as the owner role.
func (c *Cluster) OwnerURL() string { return RoleURL(c.opts.Dir, c.opts.Database, OwnerRole) }

// AppURL is the connection string for the cluster's database as the app role.
func (c *Cluster) AppURL() string { return RoleURL(c.opts.Dir, c.opts.Database, AppRole) }

// Provision makes the roles, and database db owned by the owner role, in
// the running cluster in dir, over the superuser's connection; an older
// database is handed to the owner ([Adopt]). [Start] does it; a command
// using a cluster another process started (perhaps an older release) does
// it itself. The maintenance database "postgres" (the test harness's) is
// left as it is.
func Provision(ctx context.Context, dir, db string) error {
	conn, err := pgx.Connect(ctx, SocketURL(dir, "postgres"))
	if err != nil {
		return fmt.Errorf("pgcluster: connect: %w", err)
	}
	defer conn.Close(ctx)
	if err := EnsureRoles(ctx, conn); err != nil {
		return err
	}
	if db == "postgres" {
		return nil
	}
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, db).Scan(&exists); err != nil {
		return fmt.Errorf("pgcluster: look up database: %w", err)
	}
	if !exists {
		if _, err := conn.Exec(ctx, `CREATE DATABASE `+pgx.Identifier{db}.Sanitize()+` OWNER `+pgx.Identifier{OwnerRole}.Sanitize()); err != nil {
			return fmt.Errorf("pgcluster: create database %q: %w", db, err)
		}
	}
	return Adopt(ctx, conn, dir, db)
}

// EnsureRoles creates the owner and app roles over a superuser connection
// when they are missing, and keeps them unprivileged. Roles belong to the
// whole cluster, so this runs once per start, not per database.
func EnsureRoles(ctx context.Context, super *pgx.Conn) error {
	for _, role := range []string{OwnerRole, AppRole} {
		var exists bool
		if err := super.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)`, role).Scan(&exists); err != nil {
			return fmt.Errorf("pgcluster: look up role %s: %w", role, err)
		}
		verb := "ALTER"
		if !exists {
			verb = "CREATE"
		}
		// Stated on every start, so a role someone widened is narrowed again.
		sql := verb + ` ROLE ` + pgx.Identifier{role}.Sanitize() + ` LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS`
		if _, err := super.Exec(ctx, sql); err != nil {
			return fmt.Errorf("pgcluster: %s role %s: %w", verb, role, err)
		}
	}
	return nil
}

// Adopt hands database db to the owner role: the database, its public
// schema, and every object in it the superuser owns (a cluster made before
// the roles existed ran its migrations as the superuser). Without that the
// owner could not migrate those tables further nor grant the app role on
// them. It also keeps other roles from creating objects in public.
func Adopt(ctx context.Context, super *pgx.Conn, dir, db string) error {
	owner := pgx.Identifier{OwnerRole}.Sanitize()
	if _, err := super.Exec(ctx, `ALTER DATABASE `+pgx.Identifier{db}.Sanitize()+` OWNER TO `+owner); err != nil {
		return fmt.Errorf("pgcluster: hand database %s to %s: %w", db, OwnerRole, err)
	}
	conn, err := pgx.Connect(ctx, socketURL(dir, db, Superuser))
	if err != nil {
		return fmt.Errorf("pgcluster: connect to %s: %w", db, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `ALTER SCHEMA public OWNER TO `+owner+`; REVOKE CREATE ON SCHEMA public FROM PUBLIC`); err != nil {
		return fmt.Errorf("pgcluster: hand schema public of %s to %s: %w", db, OwnerRole, err)
	}
	// Tables first: their row types, indexes and column sequences follow them.
	if _, err := conn.Exec(ctx, adoptSQL); err != nil {
		return fmt.Errorf("pgcluster: hand the objects of %s to %s: %w", db, OwnerRole, err)
	}
	return nil
}

// adoptSQL (with the role names of Superuser and OwnerRole written out)
// changes the owner of the superuser's relations, standalone
// sequences, routines and types in schema public. REASSIGN OWNED would be
// shorter but refuses the bootstrap superuser, who owns the catalogs.
const adoptSQL = `DO $$
DECLARE r record;
BEGIN
	FOR r IN SELECT c.oid::regclass AS name, CASE c.relkind
			WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END AS kind
		FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relowner = 'sealgate'::regrole
		AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
	LOOP
		EXECUTE format('ALTER %s %s OWNER TO sealgate_owner', r.kind, r.name);
	END LOOP;
	FOR r IN SELECT c.oid::regclass AS name FROM pg_class c
		WHERE c.relnamespace = 'public'::regnamespace AND c.relowner = 'sealgate'::regrole AND c.relkind = 'S'
		AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('a', 'i'))
	LOOP
		EXECUTE format('ALTER SEQUENCE %s OWNER TO sealgate_owner', r.name);
	END LOOP;
	FOR r IN SELECT p.oid::regprocedure AS name FROM pg_proc p
		WHERE p.pronamespace = 'public'::regnamespace AND p.proowner = 'sealgate'::regrole
	LOOP
		EXECUTE format('ALTER ROUTINE %s OWNER TO sealgate_owner', r.name);
	END LOOP;
	FOR r IN SELECT t.oid::regtype AS name FROM pg_type t
		WHERE t.typnamespace = 'public'::regnamespace AND t.typowner = 'sealgate'::regrole
		AND (t.typtype IN ('e', 'd', 'r') OR (t.typtype = 'c' AND (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c'))
	LOOP
		EXECUTE format('ALTER TYPE %s OWNER TO sealgate_owner', r.name);
	END LOOP;
END $$`
