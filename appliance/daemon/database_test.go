package daemon_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"sealgate/appliance/daemon"
	"sealgate/appliance/daemon/daemontest"
	"sealgate/shared/account"
	"sealgate/shared/audit"
	"sealgate/shared/config"
	"sealgate/shared/keys"
	"sealgate/shared/pgcluster"
	"sealgate/shared/pgdb"
	"sealgate/shared/pgdb/pgtest"
)

var migrations = pgdb.MustMigrations(account.Schema, audit.Schema)

// testApp is a daemon with accounts and the audit log only, on a private
// cluster in a fresh data directory.
func testApp(t *testing.T) (app *daemon.App, configPath string, out *bytes.Buffer) {
	t.Helper()
	dir := daemontest.DataDir(t)
	configPath = filepath.Join(dir, "inner.yaml")
	if err := os.WriteFile(configPath, []byte("data_dir: "+filepath.Join(dir, "data")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := keys.InitInner(filepath.Join(dir, "data", "keys")); err != nil {
		t.Fatal(err)
	}
	out = new(bytes.Buffer)
	app = &daemon.App{
		Name:      "sealgate-test",
		EnvPrefix: "SEALGATE_TEST_",
		LoadConfig: func(path string, environ []string) (*config.Base, error) {
			c, err := config.LoadInner(path, environ)
			if err != nil {
				return nil, err
			}
			return &c.Base, nil
		},
		LoadSecrets: func(dir string) (*keys.Secrets, error) {
			k, err := keys.LoadInner(dir)
			if err != nil {
				return nil, err
			}
			return &k.Secrets, nil
		},
		Accounts:   account.Config{Issuer: "test", Roles: []string{"admin"}, TOTPRoles: []string{"admin"}},
		Migrations: migrations,
		Help:       map[string]string{"serve_help": "-", "keys_init_help": "-", "version_help": "-"},
		Stdout:     out,
		Stderr:     out,
	}
	return app, configPath, out
}

// run runs one command of app and returns its exit code and output.
func run(t *testing.T, app *daemon.App, args ...string) (int, string) {
	t.Helper()
	out := app.Stdout.(*bytes.Buffer)
	out.Reset()
	code := daemon.Main(context.Background(), app, &daemon.CLI{}, args)
	return code, out.String()
}

func TestTheDaemonsDatabaseRoleCannotRewriteTheAuditLog(t *testing.T) {
	ctx := context.Background()
	app, configPath, _ := testApp(t)
	base, err := app.LoadConfig(configPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	db, err := daemon.OpenDatabase(ctx, base, migrations, daemon.Owner, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	log := audit.New(db.Pool, bytes.Repeat([]byte{7}, 32))
	if err := log.Append(ctx, audit.Entry{Actor: "system", Action: "test"}); err != nil {
		t.Fatalf("the daemon appending to the audit log: %v", err)
	}
	var super bool
	if err := db.Pool.QueryRow(ctx, `SELECT rolsuper FROM pg_roles WHERE rolname = current_user`).Scan(&super); err != nil || super {
		t.Errorf("the daemon's pool is a superuser's (%v)", err)
	}
	for _, sql := range []string{
		`UPDATE audit_log SET actor = 'someone-else'`,
		`DELETE FROM audit_log`,
		`TRUNCATE audit_log`,
		// What a superuser or the owner would do to go around the trigger.
		`ALTER TABLE audit_log DISABLE TRIGGER USER`,
	} {
		_, err := db.Pool.Exec(ctx, sql)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "42501" || strings.Contains(pe.Message, "append-only") {
			t.Errorf("%s as the daemon: %v, want permission denied", sql, err)
		}
	}
	// The rest of the schema is the daemon's to use.
	if _, err := db.Pool.Exec(ctx, `DELETE FROM sessions`); err != nil {
		t.Errorf("the daemon deleting sessions: %v", err)
	}
}

func TestAuditVerifyAgainstAnAnchorReportsADeletedTail(t *testing.T) {
	app, configPath, _ := testApp(t)
	anchorFile := filepath.Join(filepath.Dir(configPath), "head.anchor")
	if code, out := run(t, app, "admin", "create", "--config", configPath, "--username", "chief"); code != 0 {
		t.Fatalf("admin create: %d %s", code, out)
	}
	if code, out := run(t, app, "audit", "anchor", "--config", configPath, "--out", anchorFile); code != 0 || !strings.Contains(out, "anchored entry 2") {
		t.Fatalf("audit anchor: %d %s", code, out)
	}
	if code, out := run(t, app, "admin", "create", "--config", configPath, "--username", "deputy"); code != 0 {
		t.Fatalf("admin create: %d %s", code, out)
	}
	if code, out := run(t, app, "audit", "verify", "--config", configPath, "--anchor", anchorFile); code != 0 || !strings.Contains(out, "intact: 3 entries") {
		t.Fatalf("audit verify --anchor before the deletion: %d %s", code, out)
	}

	// The owner role, which can go around the trigger, deletes the newest
	// two entries (the private cluster is down between commands).
	base, err := app.LoadConfig(configPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := pgcluster.Start(context.Background(), pgcluster.Options{Dir: base.PrivateDatabaseDir(), User: base.Database.Private.User})
	if err != nil {
		t.Fatal(err)
	}
	owner, err := pgx.Connect(context.Background(), c.OwnerURL())
	if err == nil {
		_, err = owner.Exec(context.Background(), `ALTER TABLE audit_log DISABLE TRIGGER USER;
			DELETE FROM audit_log WHERE seq > 1; ALTER TABLE audit_log ENABLE TRIGGER USER`)
		owner.Close(context.Background())
	}
	if err := errors.Join(err, c.Close()); err != nil {
		t.Fatal(err)
	}

	if code, out := run(t, app, "audit", "verify", "--config", configPath); code != 0 || !strings.Contains(out, "intact: 1 entries") {
		t.Fatalf("audit verify without the anchor: %d %s; the shorter chain holds", code, out)
	}
	code, out := run(t, app, "audit", "verify", "--config", configPath, "--anchor", anchorFile, "--json")
	if code == 0 || !strings.Contains(out, `"first_bad_entry":2`) || !strings.Contains(out, "truncated") {
		t.Fatalf("audit verify --anchor after the deletion: %d %s; want entry 2 missing", code, out)
	}
	// With the daemon's own last anchor in place (audit.anchor_file), a
	// plain audit verify checks against it.
	b, _ := os.ReadFile(anchorFile)
	if err := os.WriteFile(base.Audit.AnchorFile, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out := run(t, app, "audit", "verify", "--config", configPath); code == 0 || !strings.Contains(out, "truncated") {
		t.Fatalf("audit verify with the daemon's anchor after the deletion: %d %s; want entry 2 missing", code, out)
	}
}

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// An external database, as the operator prepares it (docs/operations.md):
// database.url names the serving role, the owner migrates.
func TestDatabaseMigrateGrantsAnExternalServingRole(t *testing.T) {
	url := pgtest.NewDatabase(t, nil)
	ownerURL, appURL := pgtest.RoleURL(t, url, pgcluster.OwnerRole), pgtest.RoleURL(t, url, pgcluster.AppRole)
	app, configPath, _ := testApp(t)
	app.Environ = []string{config.InnerEnvPrefix + "DATABASE_URL=" + appURL}

	if code, out := run(t, app, "audit", "verify", "--config", configPath); code == 0 || !strings.Contains(out, "as the schema's owner") {
		t.Fatalf("the serving role on an unmigrated database: %d %s; want a refusal naming the owner", code, out)
	}
	if code, out := run(t, app, "database", "migrate", "--config", configPath); code == 0 || !strings.Contains(out, "--owner-url") {
		t.Fatalf("database migrate without the owner's URL: %d %s", code, out)
	}
	t.Setenv("SEALGATE_TEST_DATABASE_OWNER_URL", ownerURL)
	if code, out := run(t, app, "database", "migrate", "--config", configPath); code != 0 || !strings.Contains(out, `"sealgate_app" may serve`) {
		t.Fatalf("database migrate: %d %s", code, out)
	}
	if code, out := run(t, app, "admin", "create", "--config", configPath, "--username", "chief"); code != 0 {
		t.Fatalf("admin create as the serving role: %d %s", code, out)
	}
	if code, out := run(t, app, "audit", "verify", "--config", configPath); code != 0 || !strings.Contains(out, "intact: 1 entries") {
		t.Fatalf("audit verify as the serving role: %d %s", code, out)
	}

	// One role for both is refused by the command, and warned about by the daemon.
	app.Environ = []string{config.InnerEnvPrefix + "DATABASE_URL=" + ownerURL}
	if code, out := run(t, app, "database", "migrate", "--config", configPath); code == 0 || !strings.Contains(out, "owns the schema") {
		t.Fatalf("database migrate with database.url the owner's: %d %s", code, out)
	}
	base, err := app.LoadConfig(configPath, app.Environ)
	if err != nil {
		t.Fatal(err)
	}
	var logged bytes.Buffer
	db, err := daemon.OpenDatabase(context.Background(), base, migrations, daemon.Owner, slog.New(slog.NewTextHandler(&logged, nil)))
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if !strings.Contains(logged.String(), "can rewrite the audit log") {
		t.Fatalf("no warning serving as the owner; logged:\n%s", logged.String())
	}
}
