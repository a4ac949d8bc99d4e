package pgdb_test

import (
	"context"
	"errors"
	"os"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/jackc/pgx/v5/pgxpool"

	"sealgate/shared/pgdb"
	"sealgate/shared/pgdb/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func migrations(t *testing.T, files map[string]string) []pgdb.Migration {
	t.Helper()
	fsys := fstest.MapFS{}
	for name, sql := range files {
		fsys["m/"+name] = &fstest.MapFile{Data: []byte(sql)}
	}
	ms, err := pgdb.Migrations(fsys, "m")
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

func TestMigrationNames(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files []string
		ok    bool
	}{
		{"consecutive", []string{"0001_init.sql", "0002_more.sql"}, true},
		{"gap", []string{"0001_init.sql", "0003_more.sql"}, false},
		{"no number", []string{"init.sql"}, false},
		{"zero", []string{"0000_init.sql"}, false},
		{"duplicate", []string{"0001_a.sql", "01_b.sql"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for _, f := range tc.files {
				fsys["m/"+f] = &fstest.MapFile{Data: []byte("SELECT 1")}
			}
			_, err := pgdb.Migrations(fsys, "m")
			if (err == nil) != tc.ok {
				t.Fatalf("Migrations(%v): err = %v, want ok=%v", tc.files, err, tc.ok)
			}
		})
	}
}

func TestOpenMigratesOnceAndRefusesNewerSchema(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabase(t, nil) // empty database
	v1 := migrations(t, map[string]string{"0001_init.sql": `CREATE TABLE a (n int)`})
	v2 := migrations(t, map[string]string{"0001_init.sql": `CREATE TABLE a (n int)`, "0002_b.sql": `CREATE TABLE b (n int)`})

	// Two nodes migrating the same database at once: the advisory lock
	// serialises them and each migration runs once.
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			pool, err := pgdb.Open(ctx, url, v2, "test")
			if err == nil {
				pool.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatalf("concurrent Open: %v", err)
		}
	}
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil || n != 2 {
		t.Fatalf("schema_migrations rows = %d (%v), want 2", n, err)
	}

	_, err = pgdb.Open(ctx, url, v1, "old")
	if !errors.Is(err, pgdb.ErrSchemaTooNew) {
		t.Fatalf("older binary on newer schema: got %v, want ErrSchemaTooNew", err)
	}
	if err := pgdb.CheckSchema(ctx, pool, v2); err != nil {
		t.Fatalf("CheckSchema at matching version: %v", err)
	}
}

func TestFailedMigrationLeavesNoTrace(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabase(t, nil)
	bad := migrations(t, map[string]string{"0001_init.sql": `CREATE TABLE a (n int)`, "0002_bad.sql": `CREATE TABLE c (n int); SELECT * FROM missing`})
	if _, err := pgdb.Open(ctx, url, bad, "test"); err == nil {
		t.Fatal("Open with a failing migration succeeded")
	}
	pool, _ := pgxpool.New(ctx, url)
	defer pool.Close()
	v, err := pgdb.SchemaVersion(ctx, pool)
	if err != nil || v != 1 {
		t.Fatalf("schema version after failed 0002 = %d (%v), want 1", v, err)
	}
	var exists bool
	pool.QueryRow(ctx, `SELECT to_regclass('c') IS NOT NULL`).Scan(&exists)
	if exists {
		t.Fatal("table from the failed migration exists: it was not rolled back")
	}
}

func TestCollectAcrossSources(t *testing.T) {
	own := fstest.MapFS{"m/0001_init.sql": {Data: []byte("SELECT 1")}}
	shared := fstest.MapFS{"s/0002_accounts.sql": {Data: []byte("SELECT 2")}}
	ms, err := pgdb.Collect(pgdb.Source{FS: own, Dir: "m"}, pgdb.Source{FS: shared, Dir: "s"})
	if err != nil || len(ms) != 2 || ms[1].Name != "accounts" {
		t.Fatalf("Collect: %+v, %v", ms, err)
	}
	clash := fstest.MapFS{"s/0001_other.sql": {Data: []byte("SELECT 3")}}
	if _, err := pgdb.Collect(pgdb.Source{FS: own, Dir: "m"}, pgdb.Source{FS: clash, Dir: "s"}); err == nil {
		t.Fatal("two sources with version 1 were accepted")
	}
}
