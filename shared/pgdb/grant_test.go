package pgdb_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"testing/fstest"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"sealgate/shared/pgcluster"
	"sealgate/shared/pgdb"
	"sealgate/shared/pgdb/pgtest"
)

// appendOnlySource is an owner with an ordinary table and an append-only one.
func appendOnlySource(files map[string]string) pgdb.Source {
	fsys := fstest.MapFS{}
	for name, sql := range files {
		fsys["m/"+name] = &fstest.MapFile{Data: []byte(sql)}
	}
	return pgdb.Source{Schema: "app", FS: fsys, Dir: "m", AppendOnly: []string{"journal"}}
}

// mustRefuse runs sql and wants PostgreSQL's "insufficient privilege".
func mustRefuse(t *testing.T, pool *pgxpool.Pool, sql string) {
	t.Helper()
	_, err := pool.Exec(context.Background(), sql)
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "42501" {
		t.Errorf("%s: %v, want permission denied (42501)", sql, err)
	}
}

func mustDo(t *testing.T, pool *pgxpool.Pool, sql string) {
	t.Helper()
	if _, err := pool.Exec(context.Background(), sql); err != nil {
		t.Errorf("%s: %v", sql, err)
	}
}

func TestSetupGrantsTheServingRoleOnlyWhatItNeeds(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabase(t, nil)
	v1 := map[string]string{"0001_init.sql": `CREATE TABLE things (id bigserial PRIMARY KEY, n int);
		CREATE TABLE journal (n int)`}
	owner := pgtest.RolePool(t, url, pgcluster.OwnerRole)
	if err := pgdb.Setup(ctx, owner, pgdb.MustMigrations(appendOnlySource(v1)), "test", pgcluster.AppRole); err != nil {
		t.Fatal(err)
	}
	app := pgtest.RolePool(t, url, pgcluster.AppRole)
	mustDo(t, app, `INSERT INTO things (n) VALUES (1)`)
	mustDo(t, app, `UPDATE things SET n = 2`)
	mustDo(t, app, `DELETE FROM things`)
	mustDo(t, app, `INSERT INTO journal VALUES (1)`)
	mustDo(t, app, `SELECT count(*) FROM journal`)
	mustRefuse(t, app, `UPDATE journal SET n = 2`)
	mustRefuse(t, app, `DELETE FROM journal`)
	mustRefuse(t, app, `TRUNCATE journal`)
	mustRefuse(t, app, `TRUNCATE things`)
	mustRefuse(t, app, `ALTER TABLE journal DISABLE TRIGGER USER`)
	mustRefuse(t, app, `DELETE FROM schema_migrations`)
	mustRefuse(t, app, `CREATE TABLE mine (n int)`)

	// A later migration's table is granted by default privileges; one that
	// recreates the append-only table gets it restricted again.
	v2 := map[string]string{"0002_more.sql": `CREATE TABLE later (id serial, n int);
		DROP TABLE journal; CREATE TABLE journal (n int)`}
	v2[`0001_init.sql`] = v1[`0001_init.sql`]
	ms2 := pgdb.MustMigrations(appendOnlySource(v2))
	appURL := pgtest.RoleURL(t, url, pgcluster.AppRole)
	if _, err := pgdb.Open(ctx, appURL, ms2, "test"); err == nil {
		t.Fatal("the serving role migrated the schema")
	}
	if err := pgdb.Setup(ctx, owner, ms2, "test", pgcluster.AppRole); err != nil {
		t.Fatal(err)
	}
	mustDo(t, app, `INSERT INTO later (n) VALUES (1)`)
	mustDo(t, app, `INSERT INTO journal VALUES (1)`)
	mustRefuse(t, app, `UPDATE journal SET n = 2`)
	mustRefuse(t, app, `DELETE FROM journal`)

	// An up-to-date schema opens as the serving role, which cannot rewrite.
	pool, err := pgdb.Open(ctx, appURL, ms2, "test")
	if err != nil {
		t.Fatalf("Open as the serving role on a current schema: %v", err)
	}
	defer pool.Close()
	if bad, err := pgdb.CanRewrite(ctx, pool, ms2); err != nil || len(bad) != 0 {
		t.Fatalf("CanRewrite as the app role = %v, %v; want none", bad, err)
	}
	if bad, err := pgdb.CanRewrite(ctx, owner, ms2); err != nil || !slices.Equal(bad, []string{"journal"}) {
		t.Fatalf("CanRewrite as the owner = %v, %v; want journal", bad, err)
	}
}
