package accountui_test

import (
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/prometheus/client_golang/prometheus"

	"sealgate/shared/account"
	"sealgate/shared/accountui"
	"sealgate/shared/audit"
	"sealgate/shared/pgdb"
	"sealgate/shared/pgdb/pgtest"
	"sealgate/shared/web"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// site is an inner daemon's account pages on a fresh database, served over
// real HTTPS by the real handlers.
type site struct {
	svc   *account.Service
	audit *audit.Log
	srv   *httptest.Server
	reg   *prometheus.Registry
}

var tester = account.Actor{Name: "test", Remote: "test"}

func newSite(t *testing.T) *site {
	t.Helper()
	ctx := context.Background()
	pool := pgtest.NewPool(t, pgdb.MustMigrations(account.Schema, audit.Schema))
	key := make([]byte, 96)
	rand.Read(key)
	s := &site{audit: audit.New(pool, key[:32]), reg: prometheus.NewRegistry()}
	var err error
	s.svc, err = account.NewService(ctx, pool, account.Config{Issuer: "Sealgate test",
		Roles: []string{"admin", "operator", "approver", "auditor"}, TOTPRoles: []string{"admin", "approver"}, PIIKey: key[32:], Audit: s.audit, PasswordCost: account.TestPasswordCost})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	e := web.New(log)
	ui := accountui.New(e, s.svc, s.audit, accountui.Config{AppKey: "app.inner", AdminRoles: []string{"admin"}, AuditRoles: []string{"admin", "auditor"},
		Metrics: s.reg}, log)
	// The buckets do not refill while a test counts steps: Argon2 under
	// -race on a shared machine is slow enough to earn extra steps.
	frozen := time.Now()
	accountui.SetLimitClock(ui, func() time.Time { return frozen })
	s.srv = httptest.NewTLSServer(e)
	t.Cleanup(s.srv.Close)
	return s
}

const (
	password = "Hwangsa-Bridge 7 lanterns!"
	given    = "Namsan Tower 63 lanterns?" // set by an admin: must be changed
)

// totpUser is an account that has changed its first password and turned
// TOTP on; it returns the ten recovery codes, the right second factor a test
// can give at once (the confirming step's TOTP code is spent, and the
// service runs on the wall clock).
func (s *site) totpUser(t *testing.T, name, role string) (*account.User, []string) {
	t.Helper()
	ctx := context.Background()
	u, _, err := s.svc.CreateUser(ctx, tester, account.NewUser{Username: name, Role: role, Password: given})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.svc.ChangePassword(ctx, tester, u.ID, given, password, nil); err != nil {
		t.Fatal(err)
	}
	e, err := s.svc.BeginTOTP(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	code, _ := totp.GenerateCode(e.Secret, time.Now())
	recovery, err := s.svc.ConfirmTOTP(ctx, tester, u, code, "")
	if err != nil {
		t.Fatal(err)
	}
	u, _ = s.svc.User(ctx, u.ID)
	return u, recovery
}

// browser is a client with a cookie jar that posts forms with the CSRF
// token, as the pages do, from the loopback address from (127.0.0.1 if
// empty), so a test can be several clients.
type browser struct {
	s    *site
	http *http.Client
	jar  *cookiejar.Jar
}

func (s *site) browser(t *testing.T, from string) *browser {
	t.Helper()
	tr := s.srv.Client().Transport.(*http.Transport).Clone()
	if from != "" {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 10 * time.Second}
		tr.DialContext = d.DialContext
	}
	jar, _ := cookiejar.New(nil)
	b := &browser{s: s, jar: jar, http: &http.Client{Transport: tr, Jar: jar, Timeout: time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	t.Cleanup(tr.CloseIdleConnections)
	b.get(t, "/login") // the CSRF cookie
	return b
}

func (b *browser) do(t *testing.T, method, path string, form url.Values) (int, string, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, b.s.srv.URL+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		u, _ := url.Parse(b.s.srv.URL)
		for _, ck := range b.jar.Cookies(u) {
			if ck.Name == web.CSRFCookie {
				req.Header.Set("X-CSRF-Token", ck.Value)
			}
		}
	}
	resp, err := b.http.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(out)
}

// form makes a form of name, value pairs.
func form(kv ...string) url.Values {
	f := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		f.Set(kv[i], kv[i+1])
	}
	return f
}

// post sends a form and returns the status and where it redirects.
func (b *browser) post(t *testing.T, path string, kv ...string) (int, string) {
	t.Helper()
	code, loc, _ := b.do(t, http.MethodPost, path, form(kv...))
	return code, loc
}

func (b *browser) get(t *testing.T, path string) (int, string, string) {
	t.Helper()
	return b.do(t, http.MethodGet, path, nil)
}

// want fails unless a step got status (and, for a redirect, went to loc).
func want(t *testing.T, step string, code int, loc string, wantCode int, wantLoc string) {
	t.Helper()
	if code != wantCode || (wantLoc != "" && loc != wantLoc) {
		t.Fatalf("%s: %d %q, want %d %q", step, code, loc, wantCode, wantLoc)
	}
}
