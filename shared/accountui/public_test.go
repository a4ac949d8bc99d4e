package accountui_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/labstack/echo/v4"

	"sealgate/shared/account"
	"sealgate/shared/accountui"
	"sealgate/shared/audit"
	"sealgate/shared/pgdb"
	"sealgate/shared/pgdb/pgtest"
	"sealgate/shared/web"
)

// TestPublicPagesShareTheSignInAddressBudget: a public form (an officer's
// registration) needs the CSRF token, is open without a session, and its
// posts draw on the same per-address budget as the sign-in steps; reading
// it does not.
func TestPublicPagesShareTheSignInAddressBudget(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.NewPool(t, pgdb.MustMigrations(account.Schema, audit.Schema))
	key := make([]byte, 96)
	rand.Read(key)
	al := audit.New(pool, key[:32])
	svc, err := account.NewService(ctx, pool, account.Config{Issuer: "Sealgate test", Roles: []string{"admin", "officer"},
		TOTPRoles: []string{"admin", "officer"}, PIIKey: key[32:], Audit: al, PasswordCost: account.TestPasswordCost})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	e := web.New(log)
	ui := accountui.New(e, svc, al, accountui.Config{AppKey: "app.outer", AdminRoles: []string{"admin"}, AuditRoles: []string{"admin"},
		Pages: fstest.MapFS{"hello.html": {Data: []byte(`{{define "content"}}<p id="hello">{{.Data}}</p>{{end}}`)}}}, log)
	frozen := time.Now()
	accountui.SetLimitClock(ui, func() time.Time { return frozen })
	var posted atomic.Int32
	ui.HandlePublic(http.MethodGet, "/register", func(c echo.Context) error {
		return ui.Render(c, accountui.View{Name: "hello", Title: "login.title", Data: "form"})
	})
	ui.HandlePublic(http.MethodPost, "/register", func(c echo.Context) error {
		posted.Add(1)
		return ui.Render(c, accountui.View{Name: "hello", Title: "login.title", Data: "received"})
	})
	srv := httptest.NewTLSServer(e)
	t.Cleanup(srv.Close)
	s := &site{svc: svc, audit: al, srv: srv}

	if r := ui.Routes(); !hasPublic(r, http.MethodPost, "/register") {
		t.Fatalf("POST /register is not in the access table as public: %+v", r)
	}
	b := s.browser(t, "127.0.0.60")
	if code, _, body := b.get(t, "/register"); code != http.StatusOK || !strings.Contains(body, `<p id="hello">form</p>`) {
		t.Fatalf("GET /register without a session: %d %.300s", code, body)
	}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/register", strings.NewReader("name=x"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if resp, err := b.http.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("POST without the CSRF token: %v %v", resp, err)
	}
	for i := range accountui.StepsPerMinute - 1 {
		if code, _, body := b.do(t, http.MethodPost, "/register", form("name", fmt.Sprint(i))); code != http.StatusOK || !strings.Contains(body, "received") {
			t.Fatalf("registration %d: %d", i+1, code)
		}
	}
	for range 3 { // reading the form costs nothing
		if code, _, _ := b.get(t, "/register"); code != http.StatusOK {
			t.Fatalf("GET /register: %d", code)
		}
	}
	code, loc := b.post(t, "/login", "username", "nobody", "password", password)
	want(t, "the last step of the address's budget, a sign-in", code, loc, http.StatusUnauthorized, "")
	code, loc = b.post(t, "/register", "name", "one more")
	want(t, "a registration past the address's budget", code, loc, http.StatusTooManyRequests, "")
	code, loc = s.browser(t, "127.0.0.61").post(t, "/register", "name", "elsewhere")
	want(t, "another address", code, loc, http.StatusOK, "")
	if posted.Load() != accountui.StepsPerMinute {
		t.Fatalf("the handler ran %d times, want %d", posted.Load(), accountui.StepsPerMinute)
	}
}

func hasPublic(rs []accountui.Route, method, path string) bool {
	for _, r := range rs {
		if r.Method == method && r.Path == path && r.Public {
			return true
		}
	}
	return false
}
