package pgdb_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/jackc/pgx/v5"
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
	ms, err := pgdb.Migrations("app", fsys, "m")
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
			_, err := pgdb.Migrations("app", fsys, "m")
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
	v, err := pgdb.SchemaVersions(ctx, pool)
	if err != nil || v["app"] != 1 {
		t.Fatalf("schema version after failed 0002 = %v (%v), want app 1", v, err)
	}
	var exists bool
	pool.QueryRow(ctx, `SELECT to_regclass('c') IS NOT NULL`).Scan(&exists)
	if exists {
		t.Fatal("table from the failed migration exists: it was not rolled back")
	}
}

// Each owner numbers its own migrations: two owners may both have a 0001,
// they apply in the order given, and one owner's newer schema is refused by
// a binary that knows less of it.
func TestOwnersNumberTheirOwn(t *testing.T) {
	src := func(schema string, files ...string) pgdb.Source {
		fsys := fstest.MapFS{}
		for _, f := range files {
			name, sql, _ := strings.Cut(f, ":")
			fsys["m/"+name] = &fstest.MapFile{Data: []byte(sql)}
		}
		return pgdb.Source{Schema: schema, FS: fsys, Dir: "m"}
	}
	users := src("account", "0001_users.sql:CREATE TABLE users (id int PRIMARY KEY)")
	for _, tc := range []struct {
		name    string
		sources []pgdb.Source
		ok      bool
	}{
		{"two owners, both from 1", []pgdb.Source{users, src("inner", "0001_a.sql:SELECT 1", "0002_b.sql:SELECT 2")}, true},
		{"a gap in one owner", []pgdb.Source{users, src("inner", "0001_a.sql:SELECT 1", "0003_c.sql:SELECT 3")}, false},
		{"one owner twice", []pgdb.Source{users, src("account", "0001_x.sql:SELECT 1")}, false},
		{"no owner name", []pgdb.Source{src("", "0001_a.sql:SELECT 1")}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := pgdb.Collect(tc.sources...)
			if (err == nil) != tc.ok {
				t.Fatalf("Collect: %v, want ok=%v", err, tc.ok)
			}
		})
	}

	ctx := context.Background()
	url := pgtest.NewDatabase(t, nil)
	// inner's 0001 references account's table: the order given is the order applied.
	inner := src("inner", "0001_notes.sql:CREATE TABLE notes (user_id int REFERENCES users (id))")
	ms := pgdb.MustMigrations(users, inner)
	pool, err := pgdb.Open(ctx, url, ms, "test")
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if v, err := pgdb.SchemaVersions(ctx, pool); err != nil || v["account"] != 1 || v["inner"] != 1 || len(v) != 2 {
		t.Fatalf("versions %v, %v", v, err)
	}
	// A newer account schema (another release) applies beside inner's.
	users2 := src("account", "0001_users.sql:CREATE TABLE users (id int PRIMARY KEY)", "0002_sessions.sql:CREATE TABLE sessions (id int)")
	p2, err := pgdb.Open(ctx, url, pgdb.MustMigrations(users2, inner), "test")
	if err != nil {
		t.Fatal(err)
	}
	p2.Close()
	if err := pgdb.CheckSchema(ctx, pool, ms); !errors.Is(err, pgdb.ErrSchemaTooNew) || !strings.Contains(err.Error(), "account") {
		t.Fatalf("the older set on a newer account schema: %v, want ErrSchemaTooNew naming account", err)
	}
	if _, err := pgdb.Open(ctx, url, ms, "old"); !errors.Is(err, pgdb.ErrSchemaTooNew) {
		t.Fatalf("an older binary opened a newer schema: %v", err)
	}
	// A binary with an owner the database lacks is stale until it migrates.
	more := pgdb.MustMigrations(users2, inner, src("review", "0001_w.sql:CREATE TABLE w (n int)"))
	if err := pgdb.CheckSchema(ctx, pool, more); !errors.Is(err, pgdb.ErrSchemaStale) {
		t.Fatalf("a missing owner: %v, want ErrSchemaStale", err)
	}
}

// A database of the single-sequence layout is refused with a clear error,
// not migrated on top of.
func TestLegacyLayoutRefused(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabase(t, nil)
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, err := pool.Exec(ctx, `DROP TABLE schema_migrations; CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now(), app_version text NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	if _, err := pgdb.Open(ctx, url, migrations(t, map[string]string{"0001_init.sql": `CREATE TABLE a (n int)`}), "test"); !errors.Is(err, pgdb.ErrLegacySchema) {
		t.Fatalf("Open on the old layout: %v, want ErrLegacySchema", err)
	}
}

// The order of migrations across owners is the order the owners are given,
// each owner's from 1 up, whatever their names or numbers; an owner's new
// migration applies alone, leaving the others' schemas where they are.
func TestOwnersApplyInOrderAndIndependently(t *testing.T) {
	// Each migration notes itself in applied, so the test sees the order
	// the database ran them in.
	src := func(schema string, versions ...int) pgdb.Source {
		fsys := fstest.MapFS{}
		for _, v := range versions {
			fsys[fmt.Sprintf("m/%04d_step.sql", v)] = &fstest.MapFile{Data: fmt.Appendf(nil, `INSERT INTO applied (what) VALUES ('%s/%d')`, schema, v)}
		}
		return pgdb.Source{Schema: schema, FS: fsys, Dir: "m"}
	}
	type step struct {
		sources  []pgdb.Source
		applies  []string       // newly applied, in order
		versions map[string]int // then in the database
	}
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"owners in the order given, not by name", []step{{
			sources:  []pgdb.Source{src("outer", 1, 2), src("account", 1), src("audit", 1, 2, 3)},
			applies:  []string{"outer/1", "outer/2", "account/1", "audit/1", "audit/2", "audit/3"},
			versions: map[string]int{"outer": 2, "account": 1, "audit": 3},
		}}},
		{"an owner's new migration applies alone", []step{
			{
				sources:  []pgdb.Source{src("account", 1), src("inner", 1)},
				applies:  []string{"account/1", "inner/1"},
				versions: map[string]int{"account": 1, "inner": 1},
			},
			{
				sources:  []pgdb.Source{src("account", 1), src("inner", 1, 2)},
				applies:  []string{"inner/2"},
				versions: map[string]int{"account": 1, "inner": 2},
			},
			{ // the shared owner catches up with the same number, no clash
				sources:  []pgdb.Source{src("account", 1, 2), src("inner", 1, 2)},
				applies:  []string{"account/2"},
				versions: map[string]int{"account": 2, "inner": 2},
			},
			{ // nothing new: nothing runs
				sources:  []pgdb.Source{src("account", 1, 2), src("inner", 1, 2)},
				versions: map[string]int{"account": 2, "inner": 2},
			},
		}},
		{"a new owner joins an existing database", []step{
			{
				sources:  []pgdb.Source{src("account", 1, 2), src("inner", 1)},
				applies:  []string{"account/1", "account/2", "inner/1"},
				versions: map[string]int{"account": 2, "inner": 1},
			},
			{
				sources:  []pgdb.Source{src("account", 1, 2), src("audit", 1), src("inner", 1)},
				applies:  []string{"audit/1"},
				versions: map[string]int{"account": 2, "audit": 1, "inner": 1},
			},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			url := pgtest.NewDatabase(t, nil)
			pool, err := pgxpool.New(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			defer pool.Close()
			if _, err := pool.Exec(ctx, `CREATE TABLE applied (n serial PRIMARY KEY, what text NOT NULL)`); err != nil {
				t.Fatal(err)
			}
			seen := 0
			for i, st := range tc.steps {
				ms := pgdb.MustMigrations(st.sources...)
				if err := pgdb.Migrate(ctx, pool, ms, "test"); err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
				rows, _ := pool.Query(ctx, `SELECT what FROM applied WHERE n > $1 ORDER BY n`, seen)
				got, err := pgx.CollectRows(rows, pgx.RowTo[string])
				if err != nil {
					t.Fatal(err)
				}
				seen += len(got)
				if !slices.Equal(got, st.applies) {
					t.Fatalf("step %d applied %v, want %v", i, got, st.applies)
				}
				if v, err := pgdb.SchemaVersions(ctx, pool); err != nil || !maps.Equal(v, st.versions) {
					t.Fatalf("step %d: versions %v (%v), want %v", i, v, err, st.versions)
				}
				if err := pgdb.CheckSchema(ctx, pool, ms); err != nil {
					t.Fatalf("step %d: CheckSchema after migrating: %v", i, err)
				}
			}
		})
	}
}

// The pool is large enough for the connections a daemon holds for good
// (LISTEN, River's notifier) beside its requests, unless the URL says.
func TestOpenSizesThePool(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabase(t, nil)
	ms := migrations(t, map[string]string{"0001_init.sql": `CREATE TABLE a (n int)`})
	for _, c := range []struct {
		url  string
		want int32
	}{{url, pgdb.DefaultMaxConns}, {url + sep(url) + "pool_max_conns=3", 3}} {
		pool, err := pgdb.Open(ctx, c.url, ms, "test")
		if err != nil {
			t.Fatal(err)
		}
		if got := pool.Config().MaxConns; got != c.want {
			t.Errorf("Open(%q): MaxConns = %d, want %d", c.url, got, c.want)
		}
		pool.Close()
	}
}

func sep(url string) string {
	if strings.Contains(url, "?") {
		return "&"
	}
	return "?"
}
