package outerd_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"sealgate/appliance/daemon"
	"sealgate/appliance/daemon/daemontest"
	"sealgate/appliance/outerd"
	"sealgate/outer/store"
	"sealgate/shared/account"
	"sealgate/shared/audit"
	"sealgate/shared/config"
	"sealgate/shared/keys"
	"sealgate/shared/pgcluster"
	"sealgate/shared/pgdb/pgtest"
)

// outerSite is an outer on an external database as docs/operations.md
// sets one up: it serves as the app role, the owner role migrates.
type outerSite struct {
	conf, superURL, ownerURL string
	env                      []string
}

func newOuterSite(t *testing.T) outerSite {
	t.Helper()
	dir := daemontest.DataDir(t)
	s := outerSite{conf: filepath.Join(dir, "outer.yaml"), superURL: pgtest.NewDatabase(t, store.Migrations())}
	os.WriteFile(s.conf, []byte("data_dir: data\nportal:\n  listen: 127.0.0.1:0\nmetrics:\n  listen: 127.0.0.1:0\ntransfer:\n  listen: \"\"\nshutdown_grace: 2s\n"), 0o600)
	s.ownerURL = pgtest.RoleURL(t, s.superURL, pgcluster.OwnerRole)
	s.env = []string{"SEALGATE_OUTER_DATABASE_URL=" + pgtest.RoleURL(t, s.superURL, pgcluster.AppRole)}
	s.outer(t, 0, "", "keys", "init", "--dir", filepath.Join(dir, "data", "keys"))
	return s
}

// outer runs sealgate-outer on the site; want is the exit code, and a
// failure's message must contain msg.
func (s outerSite) outer(t *testing.T, want int, msg string, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	code := outerd.Main(context.Background(), args, &out, &errb, s.env)
	if (code == 0) != (want == 0) || !strings.Contains(errb.String(), msg) {
		t.Fatalf("sealgate-outer %s: exit %d, %s; want exit %d saying %q", args[0], code, errb.String(), want, msg)
	}
	return out.String()
}

func (s outerSite) state(t *testing.T) ([]*account.User, []audit.Entry) {
	t.Helper()
	cfg, err := config.LoadOuter(s.conf, nil)
	if err != nil {
		t.Fatal(err)
	}
	k, err := keys.LoadOuter(cfg.KeyDir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	users, err := daemontest.Accounts(t, s.superURL, outerd.Accounts, &k.Secrets).Users(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	pool, _ := pgxpool.New(ctx, s.superURL)
	defer pool.Close()
	entries, err := audit.New(pool, k.Audit).Query(ctx, audit.Filter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return users, entries
}

// TestBackupRestoreExternal: the outer on an external database is backed
// up with a passphrase while it serves; a restore is refused while it runs
// and with a wrong passphrase; onto another site's database and keys it
// brings back the users and the audit chain, and grants the serving role
// again.
func TestBackupRestoreExternal(t *testing.T) {
	a := newOuterSite(t)
	cfg, _ := config.LoadOuter(a.conf, a.env)
	k, _ := keys.LoadOuter(cfg.KeyDir)
	svc := daemontest.Accounts(t, a.superURL, outerd.Accounts, &k.Secrets)
	if _, _, err := svc.CreateUser(context.Background(), account.Actor{Name: "test"},
		account.NewUser{Username: "officer.choi", Role: "officer", FullName: "최지훈", Affiliation: "서울중부경찰서"}); err != nil {
		t.Fatal(err)
	}
	pass := filepath.Join(filepath.Dir(a.conf), "passphrase")
	os.WriteFile(pass, []byte("a long passphrase kept in the safe\n"), 0o600)
	wrong := filepath.Join(filepath.Dir(a.conf), "wrong")
	os.WriteFile(wrong, []byte("a long passphrase kept in the sink\n"), 0o600)
	archive := filepath.Join(filepath.Dir(a.conf), "outer.sgbak")

	d := daemontest.Start(t, func(ctx context.Context, started func(daemon.Addrs)) error {
		return outerd.Serve(ctx, cfg, io.Discard, slog.New(slog.DiscardHandler), started)
	})
	a.outer(t, 0, "", "backup", "--config", a.conf, "--out", archive, "--passphrase-file", pass)
	a.outer(t, 1, "data directory is in use", "restore", "--config", a.conf, "--in", archive, "--passphrase-file", pass)
	d.Stop(t)
	usersBefore, auditBefore := a.state(t)
	a.outer(t, 1, "does not open this archive", "restore", "--config", a.conf, "--in", archive, "--passphrase-file", wrong)

	b := newOuterSite(t) // its own keys and a migrated database, replaced
	out := b.outer(t, 0, "", "restore", "--config", b.conf, "--in", archive, "--passphrase-file", pass, "--owner-url", b.ownerURL)
	if !strings.Contains(out, "previous keys are in") {
		t.Errorf("restore over keys did not say where the old ones went: %s", out)
	}
	b.outer(t, 0, "", "audit", "verify", "--config", b.conf)
	users, entries := b.state(t)
	if !reflect.DeepEqual(users, usersBefore) {
		t.Errorf("users after the restore:\n%+v\nbefore:\n%+v", users, usersBefore)
	}
	if len(entries) != len(auditBefore)+1 || !reflect.DeepEqual(entries[1:], auditBefore) || entries[0].Action != "backup.restore" {
		t.Errorf("audit after the restore: %d entries, newest %+v; %d before", len(entries), entries[0], len(auditBefore))
	}
	// The serving role may work the restored tables (the grants came back).
	b.outer(t, 0, "", "admin", "create", "--config", b.conf, "--username", "root")
}
