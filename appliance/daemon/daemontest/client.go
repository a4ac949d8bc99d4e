package daemontest

import (
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"sealgate/shared/account"
	"sealgate/shared/audit"
	"sealgate/shared/keys"
	"sealgate/shared/web"
)

// Client is a browser-like HTTPS client of a daemon: it keeps cookies and
// sends the CSRF token with every POST, as the pages' forms do.
type Client struct {
	d    *Daemon
	http *http.Client
	jar  *cookiejar.Jar
}

// Client returns a new client with an empty cookie jar.
func (d *Daemon) Client(t testing.TB) *Client {
	jar, _ := cookiejar.New(nil)
	return &Client{d: d, jar: jar, http: &http.Client{
		Jar: jar, Timeout: 20 * time.Second,
		Transport:     &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, // self-signed; CheckEndpoints pins it
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

func (c *Client) base() string { return "https://" + c.d.Addrs.Web.String() }

// SignedIn returns a client signed in as a new user of role on svc (the
// daemon's own account service, [Accounts]), its sign-in complete.
func (d *Daemon) SignedIn(t testing.TB, svc *account.Service, name, role string) *Client {
	t.Helper()
	ctx := context.Background()
	u, _, err := svc.CreateUser(ctx, account.Actor{Name: "test"}, account.NewUser{Username: name, Role: role, FullName: name})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := svc.StartSession(ctx, u, account.StageOK, "test", "test")
	if err != nil {
		t.Fatal(err)
	}
	c := d.Client(t)
	c.SetSession(tok)
	return c
}

// SetSession puts a session token into the jar, as signing in would.
func (c *Client) SetSession(token string) {
	u, _ := url.Parse(c.base())
	c.jar.SetCookies(u, []*http.Cookie{{Name: "__Host-sealgate-session", Value: token, Path: "/", Secure: true}})
}

func (c *Client) csrf(t testing.TB) string {
	u, _ := url.Parse(c.base())
	for _, ck := range c.jar.Cookies(u) {
		if ck.Name == web.CSRFCookie {
			return ck.Value
		}
	}
	c.Do(t, http.MethodGet, "/login", nil, false) // sets the CSRF cookie
	for _, ck := range c.jar.Cookies(u) {
		if ck.Name == web.CSRFCookie {
			return ck.Value
		}
	}
	t.Fatal("no CSRF cookie from the daemon")
	return ""
}

// Do sends a request; POSTs carry form and, if withCSRF, the token.
func (c *Client) Do(t testing.TB, method, path string, form url.Values, withCSRF bool) (int, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, c.base()+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if withCSRF {
		req.Header.Set("X-CSRF-Token", c.csrf(t))
	}
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// CheckRoutes walks the daemon's whole access table: for every route that
// names roles, a signed-in user of each other role gets 403, and a user of
// a named role does not. svc is an account service on the daemon's database.
func (d *Daemon) CheckRoutes(t *testing.T, svc *account.Service, roles []string) {
	t.Helper()
	ctx := context.Background()
	tokens := map[string]string{}
	// The user the admin routes act on, apart from the walkers, whose
	// sessions a role change would end.
	target, _, err := svc.CreateUser(ctx, account.Actor{Name: "test"}, account.NewUser{Username: "walk.target", Role: roles[len(roles)-1]})
	if err != nil {
		t.Fatal(err)
	}
	for _, role := range roles {
		u, _, err := svc.CreateUser(ctx, account.Actor{Name: "test"}, account.NewUser{Username: "walker." + role, Role: role})
		if err != nil {
			t.Fatal(err)
		}
		if tokens[role], err = svc.StartSession(ctx, u, account.StageOK, "test", "test"); err != nil {
			t.Fatal(err)
		}
	}
	checked := 0
	for _, r := range d.Addrs.Routes {
		if r.Public || len(r.Stages) > 0 || len(r.Roles) == 0 {
			continue
		}
		path := strings.NewReplacer(":id", strconv.FormatInt(target.ID, 10), ":op", "unlock").Replace(r.Path)
		for _, role := range roles {
			c := d.Client(t)
			c.SetSession(tokens[role])
			var form url.Values
			if r.Method == http.MethodPost {
				form = url.Values{"role": {role}}
			}
			code, body := c.Do(t, r.Method, path, form, true)
			allowed := slices.Contains(r.Roles, role)
			if !allowed && code != http.StatusForbidden {
				t.Errorf("%s %s as %s: %d, want 403", r.Method, r.Path, role, code)
			}
			if allowed && (code == http.StatusForbidden || code == http.StatusUnauthorized || code >= 500) {
				t.Errorf("%s %s as %s (allowed): %d %.200s", r.Method, r.Path, role, code, body)
			}
			checked++
		}
	}
	if checked == 0 {
		t.Fatal("no role-restricted routes found")
	}
	t.Logf("checked %d route×role pairs", checked)
}

// Accounts returns an account service on a daemon's database, with the
// daemon's account configuration and keys: for tests that set up users
// and sessions directly.
func Accounts(t testing.TB, dbURL string, cfg account.Config, secrets *keys.Secrets) *account.Service {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	cfg.PIIKey, cfg.Audit = secrets.PII, audit.New(pool, secrets.Audit)
	svc, err := account.NewService(context.Background(), pool, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// GetRange fetches path with a Range header (empty: none), as a
// resuming download does.
func (c *Client) GetRange(t testing.TB, path, rng string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.base()+path, nil)
	if rng != "" {
		req.Header.Set("Range", rng)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return resp.StatusCode, b
}

// Stream GETs path and returns the response to read as it arrives, with
// no overall time limit (a file of the whole ledger takes a while); the
// caller closes its body.
func (c *Client) Stream(t testing.TB, path string) *http.Response {
	t.Helper()
	hc := *c.http
	hc.Timeout = 0
	resp, err := hc.Get(c.base() + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return resp
}
