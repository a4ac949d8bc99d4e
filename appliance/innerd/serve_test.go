package innerd_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/pquerna/otp/totp"

	"sealgate/appliance/daemon"
	"sealgate/appliance/daemon/daemontest"
	"sealgate/appliance/innerd"
	"sealgate/inner/child"
	"sealgate/shared/account"
	"sealgate/shared/config"
	"sealgate/shared/keys"
	"sealgate/shared/pgcluster"
	"sealgate/shared/pgdb/pgtest"
)

// TestMain also lets the test binary act as sealgate-inner when the daemon
// under test starts it as a child (the console's trace runs in one).
func TestMain(m *testing.M) {
	if os.Getenv(child.Env) != "" {
		os.Exit(innerd.Main(context.Background(), os.Args[1:], os.Stdout, os.Stderr, os.Environ()))
	}
	os.Exit(daemontest.Main(m))
}

func writeConfig(t testing.TB, dir string) *config.Inner {
	t.Helper()
	p := filepath.Join(dir, "inner.yaml")
	body := "data_dir: data\nconsole:\n  listen: 127.0.0.1:0\nmetrics:\n  listen: 127.0.0.1:0\nshutdown_grace: 2s\n"
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.LoadInner(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// startConsole starts the inner daemon on a fresh database of the test
// harness (empty: the daemon migrates it) with new keys.
func startConsole(t testing.TB) (*daemontest.Daemon, *config.Inner, *keys.Inner) {
	t.Helper()
	cfg := writeConfig(t, daemontest.DataDir(t))
	cfg.Database.URL = pgtest.NewDatabase(t, nil)
	run(t, "keys", "init", "--dir", cfg.KeyDir)
	k, err := keys.LoadInner(cfg.KeyDir)
	if err != nil {
		t.Fatal(err)
	}
	d := daemontest.Start(t, func(ctx context.Context, started func(daemon.Addrs)) error {
		return innerd.Serve(ctx, cfg, io.Discard, slog.New(slog.DiscardHandler), started)
	})
	return d, cfg, k
}

func run(t testing.TB, args ...string) string {
	t.Helper()
	return runEnv(t, nil, args...)
}

// runEnv runs sealgate-inner with environ as its environment.
func runEnv(t testing.TB, environ []string, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	if code := innerd.Main(context.Background(), args, &out, &errb, environ); code != 0 {
		t.Fatalf("sealgate-inner %s: exit %d: %s", strings.Join(args, " "), code, errb.String())
	}
	return out.String()
}

// TestServeWithPrivateDatabase is the foundation's acceptance path: no
// database configured, the daemon runs its own cluster, answers /healthz,
// /readyz and /metrics, stops leaving no postgres behind, and keeps its data
// across a restart.
func TestServeWithPrivateDatabase(t *testing.T) {
	dir := daemontest.DataDir(t)
	cfg := writeConfig(t, dir)
	run(t, "keys", "init", "--dir", cfg.KeyDir)
	serve := func(ctx context.Context, started func(daemon.Addrs)) error {
		return innerd.Serve(ctx, cfg, io.Discard, slog.New(slog.DiscardHandler), started)
	}

	d := daemontest.Start(t, serve)
	d.CheckEndpoints(t, "inner")
	pgDir := cfg.PrivateDatabaseDir()
	if _, ok := pgcluster.RunningPID(pgDir); !ok {
		t.Fatal("no private postgres running while serving")
	}
	// The admin command shares the running daemon's cluster.
	run(t, "admin", "create", "--config", filepath.Join(dir, "inner.yaml"), "--username", "first.admin")

	d.Stop(t)
	if pid, ok := pgcluster.RunningPID(pgDir); ok {
		t.Fatalf("postgres (pid %d) left running after shutdown", pid)
	}

	cfg.ShutdownGrace = 3 * time.Second // a configuration change between starts
	d = daemontest.Start(t, serve)
	if code, _, body := d.Get(t, "/readyz"); code != http.StatusOK {
		t.Fatalf("readyz after restart: %d %s", code, body)
	}
	var changes, starts int
	pool, err := pgxpool.New(context.Background(), pgcluster.SocketURL(pgDir, "sealgate"))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	pool.QueryRow(context.Background(), `SELECT count(*) FILTER (WHERE action = 'config.change'), count(*) FILTER (WHERE action = 'daemon.start') FROM audit_log`).Scan(&changes, &starts)
	if changes != 1 || starts != 2 {
		t.Fatalf("audit: %d config.change and %d daemon.start entries, want 1 and 2", changes, starts)
	}
	if out := run(t, "audit", "verify", "--config", filepath.Join(dir, "inner.yaml")); !strings.Contains(out, "intact: 4 entries") {
		t.Fatalf("audit verify: %s", out)
	}
	// Data survived: the same admin cannot be created twice.
	var errb bytes.Buffer
	code := innerd.Main(context.Background(), []string{"admin", "create", "--config", filepath.Join(dir, "inner.yaml"), "--username", "first.admin"}, io.Discard, &errb, nil)
	if code == 0 || !strings.Contains(errb.String(), "already exists") {
		t.Fatalf("second admin create: exit %d, %q", code, errb.String())
	}
}

func TestReadyzFailsWhenKeysBecomeUnsafe(t *testing.T) {
	dir := daemontest.DataDir(t)
	cfg := writeConfig(t, dir)
	run(t, "keys", "init", "--dir", cfg.KeyDir)
	d := daemontest.Start(t, func(ctx context.Context, started func(daemon.Addrs)) error {
		return innerd.Serve(ctx, cfg, io.Discard, slog.New(slog.DiscardHandler), started)
	})
	if err := os.Chmod(filepath.Join(cfg.KeyDir, "signing.key"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, body := d.Get(t, "/readyz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "signing.key") {
		t.Fatalf("readyz with a 0644 signing key: %d %s", code, body)
	}
}

func TestServeRefusesUnsafeKeys(t *testing.T) {
	dir := daemontest.DataDir(t)
	cfg := writeConfig(t, dir)
	run(t, "keys", "init", "--dir", cfg.KeyDir)
	if err := os.Chmod(filepath.Join(cfg.KeyDir, "signing.key"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := innerd.Serve(context.Background(), cfg, io.Discard, slog.New(slog.DiscardHandler), nil)
	if err == nil || !strings.Contains(err.Error(), "0644") {
		t.Fatalf("Serve with a 0644 key: %v", err)
	}
}

// TestServeWithExternalDatabase: with database.url set the daemon uses that
// server (here the test harness's) and creates no private cluster.
func TestServeWithExternalDatabase(t *testing.T) {
	d, cfg, _ := startConsole(t)
	d.CheckEndpoints(t, "inner")
	if _, err := os.Stat(cfg.PrivateDatabaseDir()); !os.IsNotExist(err) {
		t.Fatalf("private cluster directory exists with an external database: %v", err)
	}
}

// TestEveryRouteRefusesOtherRoles walks the console's access table.
func TestEveryRouteRefusesOtherRoles(t *testing.T) {
	d, cfg, k := startConsole(t)
	d.CheckRoutes(t, daemontest.Accounts(t, cfg.Database.URL, innerd.Accounts, &k.Secrets), innerd.Accounts.Roles)
}

// TestBrowserSignInWithTOTP signs in with headless Chromium the way an admin
// does the first time, then shows that a post without the CSRF token is
// refused while the session stays good.
func TestBrowserSignInWithTOTP(t *testing.T) {
	d, cfg, k := startConsole(t)
	svc := daemontest.Accounts(t, cfg.Database.URL, innerd.Accounts, &k.Secrets)
	_, pw, err := svc.CreateUser(context.Background(), account.Actor{Name: "test"}, account.NewUser{Username: "chief", Role: "admin"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := daemontest.Browser(t)
	d.SignInFirstTime(t, ctx, "chief", pw, "Namsan Tower 63 lanterns!")
	if code := daemontest.PostStatus(t, ctx, "/logout/all"); code != http.StatusForbidden {
		t.Fatalf("POST /logout/all without a CSRF token: %d, want 403", code)
	}
	if code := daemontest.PostStatus(t, ctx, "/users"); code != http.StatusForbidden {
		t.Fatalf("POST /users without a CSRF token: %d, want 403", code)
	}
	if w := d.Welcome(t, ctx); !strings.Contains(w, "chief") {
		t.Fatalf("session lost after the refused posts: %q", w)
	}
}

var (
	secretRE   = regexp.MustCompile(`<code id="secret">([A-Z2-7]+)</code>`)
	recoveryRE = regexp.MustCompile(`<li><code>([a-z0-9-]{14})</code></li>`)
	onceRE     = regexp.MustCompile(`<code id="one-time-password">([^<]+)</code>`)
)

// TestPagesOverHTTP exercises the account pages as forms post them.
func TestPagesOverHTTP(t *testing.T) {
	d, cfg, k := startConsole(t)
	svc := daemontest.Accounts(t, cfg.Database.URL, innerd.Accounts, &k.Secrets)
	_, pw, _ := svc.CreateUser(context.Background(), account.Actor{Name: "test"}, account.NewUser{Username: "chief", Role: "admin"})
	const newPW = "Namsan Tower 63 lanterns!"
	c := d.Client(t)
	post := func(path string, form url.Values, want int) string {
		t.Helper()
		code, body := c.Do(t, http.MethodPost, path, form, true)
		if code != want {
			t.Fatalf("POST %s: %d, want %d\n%.400s", path, code, want, body)
		}
		return body
	}
	get := func(path string, want int) string {
		t.Helper()
		code, body := c.Do(t, http.MethodGet, path, nil, false)
		if code != want {
			t.Fatalf("GET %s: %d, want %d\n%.400s", path, code, want, body)
		}
		return body
	}
	if body := post("/login", url.Values{"username": {"chief"}, "password": {"wrong"}}, http.StatusUnauthorized); !strings.Contains(body, `id="error"`) {
		t.Fatal("a failed sign-in shows no error")
	}
	post("/login", url.Values{"username": {"chief"}, "password": {pw}}, http.StatusSeeOther)
	get("/users", http.StatusSeeOther) // not before the password is changed
	if body := post("/password", url.Values{"current": {pw}, "new": {"Password123!"}, "confirm": {"Password123!"}}, http.StatusBadRequest); !strings.Contains(body, "추측하기 쉽습니다") {
		t.Fatalf("weak new password: no reason in Korean:\n%.600s", body)
	}
	post("/password", url.Values{"current": {pw}, "new": {newPW}, "confirm": {newPW}}, http.StatusSeeOther)
	m := secretRE.FindStringSubmatch(get("/totp/enroll", http.StatusOK))
	if m == nil {
		t.Fatal("no TOTP secret on the enrolment page")
	}
	code, _ := totp.GenerateCode(m[1], time.Now())
	codes := recoveryRE.FindAllStringSubmatch(post("/totp/enroll", url.Values{"code": {code}}, http.StatusOK), -1)
	if len(codes) != 10 {
		t.Fatalf("%d recovery codes shown", len(codes))
	}
	post("/logout", url.Values{}, http.StatusSeeOther)
	get("/", http.StatusSeeOther)

	// Second sign-in: password, then the challenge (with a recovery code, as the
	// TOTP step just used cannot be used again).
	post("/login", url.Values{"username": {"chief"}, "password": {newPW}}, http.StatusSeeOther)
	get("/", http.StatusSeeOther)
	post("/totp", url.Values{"code": {"000000"}}, http.StatusUnauthorized)
	post("/totp", url.Values{"code": {codes[0][1]}}, http.StatusSeeOther)
	get("/", http.StatusOK)

	// User administration: the one-time password shown, personal data searchable.
	body := post("/users", url.Values{"username": {"operator.kim"}, "role": {"operator"}, "full_name": {"김민지"}, "phone": {"010-1234-5678"}}, http.StatusOK)
	if onceRE.FindStringSubmatch(body) == nil {
		t.Fatal("no one-time password shown for the new user")
	}
	if body := get("/users?q=01012345678", http.StatusOK); !strings.Contains(body, "김민지") || strings.Contains(body, "walk") {
		t.Fatalf("search by phone:\n%.600s", body)
	}
	post("/users", url.Values{"username": {"Bad Name"}, "role": {"operator"}}, http.StatusBadRequest)

	// Audit page and CSV.
	if body := get("/audit?action=user.", http.StatusOK); !strings.Contains(body, "operator.kim") || !strings.Contains(body, `id="chain"`) {
		t.Fatalf("audit page:\n%.800s", body)
	}
	csv := get("/audit.csv?actor=chief", http.StatusOK)
	if !strings.HasPrefix(csv, "\ufeffseq,time,actor") || !strings.Contains(csv, "user.create") || !strings.Contains(csv, "login.recovery_code") {
		t.Fatalf("CSV:\n%.600s", csv)
	}

	// Per-address rate limit on sign-in.
	other := d.Client(t)
	limited := false
	for range 15 {
		if code, _ := other.Do(t, http.MethodPost, "/login", url.Values{"username": {"x"}, "password": {"y"}}, true); code == http.StatusTooManyRequests {
			limited = true
			break
		}
	}
	if !limited {
		t.Fatal("15 sign-in attempts from one address were not rate limited")
	}
}
