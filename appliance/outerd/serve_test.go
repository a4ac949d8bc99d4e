package outerd_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sealgate/appliance/daemon"
	"sealgate/appliance/daemon/daemontest"
	"sealgate/appliance/outerd"
	"sealgate/shared/account"
	"sealgate/shared/config"
	"sealgate/shared/keys"
	"sealgate/shared/pgcluster"
	"sealgate/shared/pgdb/pgtest"
)

func TestMain(m *testing.M) { os.Exit(daemontest.Main(m)) }

func TestServeWithPrivateDatabase(t *testing.T) {
	dir := daemontest.DataDir(t)
	p := filepath.Join(dir, "outer.yaml")
	body := "data_dir: data\nportal:\n  listen: 127.0.0.1:0\nmetrics:\n  listen: 127.0.0.1:0\nshutdown_grace: 2s\n"
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.LoadOuter(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	var errb bytes.Buffer
	if code := outerd.Main(context.Background(), []string{"keys", "init", "--dir", cfg.KeyDir}, io.Discard, &errb, nil); code != 0 {
		t.Fatalf("keys init: %s", errb.String())
	}
	d := daemontest.Start(t, func(ctx context.Context, started func(daemon.Addrs)) error {
		return outerd.Serve(ctx, cfg, io.Discard, slog.New(slog.DiscardHandler), started)
	})
	d.CheckEndpoints(t, "outer")
	d.Stop(t)
	if pid, ok := pgcluster.RunningPID(cfg.PrivateDatabaseDir()); ok {
		t.Fatalf("postgres (pid %d) left running after shutdown", pid)
	}
}

// TestEveryRouteRefusesOtherRoles walks the portal's access table.
func TestEveryRouteRefusesOtherRoles(t *testing.T) {
	cfg := externalConfig(t)
	k, err := keys.LoadOuter(cfg.KeyDir)
	if err != nil {
		t.Fatal(err)
	}
	d := daemontest.Start(t, func(ctx context.Context, started func(daemon.Addrs)) error {
		return outerd.Serve(ctx, cfg, io.Discard, slog.New(slog.DiscardHandler), started)
	})
	d.CheckRoutes(t, daemontest.Accounts(t, cfg.Database.URL, outerd.Accounts, &k.Secrets), outerd.Accounts.Roles)
}

// TestBrowserSignInWithTOTP: an officer's first sign-in in headless
// Chromium, and a post without the CSRF token refused.
func TestBrowserSignInWithTOTP(t *testing.T) {
	cfg := externalConfig(t)
	k, _ := keys.LoadOuter(cfg.KeyDir)
	d := daemontest.Start(t, func(ctx context.Context, started func(daemon.Addrs)) error {
		return outerd.Serve(ctx, cfg, io.Discard, slog.New(slog.DiscardHandler), started)
	})
	svc := daemontest.Accounts(t, cfg.Database.URL, outerd.Accounts, &k.Secrets)
	_, pw, err := svc.CreateUser(context.Background(), account.Actor{Name: "test"},
		account.NewUser{Username: "officer.choi", Role: "officer", FullName: "최지훈", Affiliation: "서울중부경찰서"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := daemontest.Browser(t)
	d.SignInFirstTime(t, ctx, "officer.choi", pw, "Cheonggyecheon 9 herons!")
	if code := daemontest.PostStatus(t, ctx, "/logout"); code != http.StatusForbidden {
		t.Fatalf("POST /logout without a CSRF token: %d, want 403", code)
	}
	if w := d.Welcome(t, ctx); !strings.Contains(w, "officer.choi") {
		t.Fatalf("session lost after the refused post: %q", w)
	}
}

// externalConfig is an outer config on a test database, with keys.
func externalConfig(t *testing.T) *config.Outer {
	t.Helper()
	dir := daemontest.DataDir(t)
	p := filepath.Join(dir, "outer.yaml")
	os.WriteFile(p, []byte("data_dir: data\nportal:\n  listen: 127.0.0.1:0\nmetrics:\n  listen: 127.0.0.1:0\n"), 0o600)
	cfg, err := config.LoadOuter(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Database.URL = pgtest.NewDatabase(t, nil)
	if err := keys.InitOuter(cfg.KeyDir); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestFirstStartWithKeysOutsideDataDir: a data_dir that does not exist yet,
// with the keys kept elsewhere, must still let the private database run.
func TestFirstStartWithKeysOutsideDataDir(t *testing.T) {
	dir := daemontest.DataDir(t)
	p := filepath.Join(dir, "outer.yaml")
	os.WriteFile(p, []byte("data_dir: fresh/data\nkey_dir: keys\nportal:\n  listen: 127.0.0.1:0\nmetrics:\n  listen: 127.0.0.1:0\ntransfer:\n  listen: \"\"\n"), 0o600)
	cfg, err := config.LoadOuter(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := keys.InitOuter(cfg.KeyDir); err != nil {
		t.Fatal(err)
	}
	d := daemontest.Start(t, func(ctx context.Context, started func(daemon.Addrs)) error {
		return outerd.Serve(ctx, cfg, io.Discard, slog.New(slog.DiscardHandler), started)
	})
	d.CheckEndpoints(t, "outer")
}
