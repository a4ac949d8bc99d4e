// Package pgtest gives tests a real PostgreSQL: one private cluster per test
// package, started from the system's binaries on first use, and a fresh
// database per test cloned from a migrated template.
//
// Databases are laid out as the daemon's: the owner role
// (pgcluster.OwnerRole) owns them and ran the migrations with [pgdb.Setup],
// which granted the app role (pgcluster.AppRole) its privileges. [NewPool]
// connects as the superuser; [RolePool] as either role.
//
// Use it from TestMain so the cluster is stopped when the package's tests end:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
//
// A machine without PostgreSQL fails the test with a message naming
// `make deps`; nothing is skipped.
package pgtest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"sealgate/shared/pgcluster"
	"sealgate/shared/pgdb"
)

var (
	startOnce  sync.Once
	cluster    *pgcluster.Cluster
	clusterDir string
	startErr   error

	mu        sync.Mutex // CREATE DATABASE … TEMPLATE needs the template idle
	templates = map[string]string{}
	serial    int
)

// Main runs the package's tests and stops the cluster afterwards.
func Main(m *testing.M) int {
	code := m.Run()
	if cluster != nil {
		if err := cluster.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest:", err)
			code = 1
		}
		os.RemoveAll(clusterDir)
	}
	return code
}

func start(t testing.TB) *pgcluster.Cluster {
	t.Helper()
	startOnce.Do(func() {
		clusterDir, startErr = os.MkdirTemp("", "sgpg")
		if startErr != nil {
			return
		}
		// Root runs postgres as an unprivileged user, who must traverse this dir.
		if startErr = os.Chmod(clusterDir, 0o711); startErr != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cluster, startErr = pgcluster.Start(ctx, pgcluster.Options{Dir: clusterDir, Database: "postgres", Ephemeral: true})
	})
	if startErr != nil {
		t.Fatalf("pgtest: start PostgreSQL for tests: %v", startErr)
	}
	return cluster
}

// Dir is the directory of the package's test cluster, started if needed.
func Dir(t testing.TB) string {
	start(t)
	return clusterDir
}

// NewDatabase creates an empty-but-migrated database for this test, dropped
// when the test ends, and returns its URL.
func NewDatabase(t testing.TB, ms []pgdb.Migration) string {
	t.Helper()
	start(t)
	ctx := context.Background()
	mu.Lock()
	defer mu.Unlock()
	tmpl, err := template(ctx, ms)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	serial++
	name := fmt.Sprintf("test_%d", serial)
	if err := exec(ctx, `CREATE DATABASE `+pgx.Identifier{name}.Sanitize()+` TEMPLATE `+pgx.Identifier{tmpl}.Sanitize()+owner); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() {
		_ = exec(ctx, `DROP DATABASE IF EXISTS `+pgx.Identifier{name}.Sanitize()+` WITH (FORCE)`)
	})
	return pgcluster.SocketURL(clusterDir, name)
}

// NewPool is NewDatabase with a pool on it, closed when the test ends.
func NewPool(t testing.TB, ms []pgdb.Migration) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), NewDatabase(t, ms))
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// owner makes the owner role own a database, as in the daemon's cluster.
var owner = ` OWNER ` + pgx.Identifier{pgcluster.OwnerRole}.Sanitize()

// RoleURL is url (from [NewDatabase]) with role (pgcluster.OwnerRole or
// pgcluster.AppRole) in place of the superuser.
func RoleURL(t testing.TB, dbURL, role string) string {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	q := u.Query()
	q.Set("user", role)
	u.RawQuery = q.Encode()
	return u.String()
}

// RolePool is a pool on the test database at dbURL as role, closed when
// the test ends.
func RolePool(t testing.TB, dbURL, role string) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), RoleURL(t, dbURL, role))
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// template returns a database migrated with ms, creating it on first use.
func template(ctx context.Context, ms []pgdb.Migration) (string, error) {
	h := sha256.New()
	for _, m := range ms {
		fmt.Fprintf(h, "%s\x00%d\x00%s\x00%s\x00%q\x00", m.Schema, m.Version, m.Name, m.SQL, m.AppendOnly)
	}
	key := hex.EncodeToString(h.Sum(nil))[:16]
	if name, ok := templates[key]; ok {
		return name, nil
	}
	name := "template_" + key
	if err := exec(ctx, `CREATE DATABASE `+pgx.Identifier{name}.Sanitize()+owner); err != nil {
		return "", fmt.Errorf("create template: %w", err)
	}
	pool, err := pgxpool.New(ctx, pgcluster.RoleURL(clusterDir, name, pgcluster.OwnerRole))
	if err != nil {
		return "", err
	}
	defer pool.Close()
	if err := pgdb.Setup(ctx, pool, ms, "test", pgcluster.AppRole); err != nil {
		return "", err
	}
	templates[key] = name
	return name, nil
}

func exec(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, pgcluster.SocketURL(clusterDir, "postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}
