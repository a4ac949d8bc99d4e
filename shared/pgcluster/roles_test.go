package pgcluster_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"sealgate/shared/pgcluster"
)

// A cluster made before the roles existed has its tables owned by the
// superuser; the next start hands them to the owner role, and neither the
// owner nor the app role is privileged.
func TestStartCreatesRolesAndHandsOlderObjectsToTheOwner(t *testing.T) {
	ctx := context.Background()
	opts := pgcluster.Options{Dir: tempDir(t) + "/pg", Database: "app", Ephemeral: true}
	c, err := pgcluster.Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, c.URL())
	if err != nil {
		t.Fatal(err)
	}
	// What an older release's migrations left, all owned by the superuser.
	_, err = conn.Exec(ctx, `ALTER DATABASE app OWNER TO sealgate; ALTER SCHEMA public OWNER TO sealgate;
		CREATE TYPE state AS ENUM ('a', 'b');
		CREATE TABLE jobs (id bigserial PRIMARY KEY, s state NOT NULL);
		CREATE VIEW job_ids AS SELECT id FROM jobs;
		CREATE SEQUENCE loose;
		CREATE FUNCTION one() RETURNS int LANGUAGE sql AS 'SELECT 1'`)
	conn.Close(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if c, err = pgcluster.Start(ctx, opts); err != nil {
		t.Fatalf("restart: %v", err)
	}
	defer c.Close()

	if n := query(t, c.URL(), `SELECT count(*) FROM (
		SELECT relowner AS o FROM pg_class WHERE relname IN ('jobs', 'jobs_id_seq', 'jobs_pkey', 'job_ids', 'loose')
		UNION ALL SELECT proowner FROM pg_proc WHERE proname = 'one'
		UNION ALL SELECT typowner FROM pg_type WHERE typname = 'state'
		UNION ALL SELECT datdba FROM pg_database WHERE datname = 'app'
		UNION ALL SELECT nspowner FROM pg_namespace WHERE nspname = 'public') x
		WHERE o = 'sealgate_owner'::regrole`); n != 9 {
		t.Fatalf("%d of 9 objects owned by %s after restart", n, pgcluster.OwnerRole)
	}
	if n := query(t, c.URL(), `SELECT count(*) FROM pg_roles WHERE rolname IN ($1, $2)
		AND rolcanlogin AND NOT (rolsuper OR rolcreatedb OR rolcreaterole OR rolbypassrls)`, pgcluster.OwnerRole, pgcluster.AppRole); n != 2 {
		t.Fatalf("%d of the 2 roles exist unprivileged", n)
	}
	if n := query(t, c.OwnerURL(), `SELECT count(*) FROM jobs`); n != 0 {
		t.Fatalf("owner reads %d jobs", n)
	}
	app, err := pgx.Connect(ctx, c.AppURL())
	if err != nil {
		t.Fatalf("connect as the app role: %v", err)
	}
	defer app.Close(ctx)
	if _, err := app.Exec(ctx, `CREATE TABLE mine (n int)`); err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Fatalf("the app role creating a table: %v, want permission denied", err)
	}
}
