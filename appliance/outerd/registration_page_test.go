package outerd_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/pquerna/otp/totp"

	"sealgate/appliance/daemon"
	"sealgate/appliance/daemon/daemontest"
	"sealgate/appliance/outerd"
	portalpages "sealgate/outer/portal"
	"sealgate/shared/account"
	"sealgate/shared/keys"
)

// The officer who registers in the browser tests, and the password they choose.
const (
	limName   = "임하준"
	limChosen = "Deoksugung 1897 stone wall!"
)

// browserStep runs actions in the browser, failing the test with what.
func browserStep(t *testing.T, b context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(b, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// browserText is the text of the page's element sel.
func browserText(t *testing.T, b context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(b, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

// registrationForm requests officer.lim's account as a visitor does: the
// sign-in page's link to the form, the form filled in with email and sent.
func registrationForm(d *daemontest.Daemon, email string) []chromedp.Action[chromedp.Void] {
	type id = chromedp.ID
	return []chromedp.Action[chromedp.Void]{
		chromedp.Navigate("https://" + d.Addrs.Web.String() + "/login"), // the sign-in page links the form
		chromedp.WaitVisible(id("signup")),
		chromedp.Click(id("signup")),
		chromedp.WaitVisible(id("full_name")),
		chromedp.SendKeys(id("full_name"), limName),
		chromedp.SendKeys(id("agency"), "서울남대문경찰서 형사과"),
		chromedp.SendKeys(id("badge"), "nd-20417"),
		chromedp.SendKeys(id("phone"), "010-3141-5926"),
		chromedp.SendKeys(id("email"), email),
		chromedp.SendKeys(id("username"), "officer.lim"),
		chromedp.SendKeys(id("password"), limChosen),
		chromedp.SendKeys(id("confirm"), limChosen),
		chromedp.Click(id("submit")),
	}
}

// approveInBrowser: the outer admin signs in for the first time (password
// change, TOTP), finds officer.lim's request pending in the review, the
// badge normalised, approves it and signs out.
func approveInBrowser(t *testing.T, d *daemontest.Daemon, b context.Context, admin, password string) {
	t.Helper()
	d.SignInFirstTime(t, b, admin, password, "Changgyeong 1483 pavilion?")
	browserStep(t, b, "the review", chromedp.Navigate("https://"+d.Addrs.Web.String()+"/registrations"), chromedp.WaitVisible(chromedp.ID("pending")))
	if row := browserText(t, b, "#pending tbody"); !strings.Contains(row, limName) || !strings.Contains(row, "ND20417") || !strings.Contains(row, "officer.lim") {
		t.Fatalf("the pending request: %q", row)
	}
	browserStep(t, b, "approve", chromedp.Click(chromedp.CSS("#pending button.approve")), chromedp.WaitVisible(chromedp.CSS("p.notice")))
	if n := browserText(t, b, "p.notice"); !strings.Contains(n, "officer.lim") {
		t.Fatalf("after approval: %q", n)
	}
	browserStep(t, b, "sign out", chromedp.Click(chromedp.ID("logout")), chromedp.WaitVisible(chromedp.ID("username")))
}

// officerFirstSignIn: officer.lim, approved, signs in on the sign-in page
// the browser shows with the password chosen at registration (not to be
// changed: nobody else saw it), enrols TOTP and lands signed in.
func officerFirstSignIn(t *testing.T, b context.Context) {
	t.Helper()
	type id = chromedp.ID
	browserStep(t, b, "the officer's password",
		chromedp.SendKeys(id("username"), "officer.lim"),
		chromedp.SendKeys(id("password"), limChosen),
		chromedp.Click(id("submit")),
		chromedp.WaitVisible(id("secret")),
	)
	code, err := totp.GenerateCode(strings.TrimSpace(browserText(t, b, "#secret")), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	browserStep(t, b, "TOTP enrolment",
		chromedp.SendKeys(id("code"), code),
		chromedp.Click(id("submit")),
		chromedp.WaitVisible(id("codes")),
		chromedp.Click(id("continue")),
		chromedp.WaitVisible(id("welcome")),
	)
	if w := browserText(t, b, "#welcome"); !strings.Contains(w, "officer.lim") {
		t.Fatalf("home page: %q", w)
	}
}

// TestOfficerRegistersAndIsApprovedInTheBrowser: in headless Chromium a
// visitor requests an officer account, through the sign-in page's link (a
// foreign e-mail domain is named on the form). Over HTTP: an admin
// approves it, and the review is not the officer's; a refused request
// keeps nothing personal, and a second request with the same badge gets
// the same answer and is not stored. (The approval in the browser and the
// officer's first sign-in are TestPortalAcceptance's.)
func TestOfficerRegistersAndIsApprovedInTheBrowser(t *testing.T) {
	ctx := context.Background()
	cfg := externalConfig(t)
	cfg.Officers.EmailDomains = []string{"police.go.kr"}
	cfg.Transfer.Listen = "" // no packages here; the port may be another test's
	k, err := keys.LoadOuter(cfg.KeyDir)
	if err != nil {
		t.Fatal(err)
	}
	d := daemontest.Start(t, func(ctx context.Context, started func(daemon.Addrs)) error {
		return outerd.Serve(ctx, cfg, io.Discard, slog.New(slog.DiscardHandler), started)
	})
	svc := daemontest.Accounts(t, cfg.Database.URL, outerd.Accounts, &k.Secrets)
	admin, _, err := svc.CreateUser(ctx, account.Actor{Name: "test"}, account.NewUser{Username: "admin.choi", Role: "admin"})
	if err != nil {
		t.Fatal(err)
	}
	db, err := pgxpool.New(ctx, cfg.Database.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	b := daemontest.Browser(t)
	browserStep(t, b, "a request with a private e-mail", append(registrationForm(d, "lim.hajun@gmail.com"), chromedp.WaitVisible(chromedp.ID("errors")))...)
	if e := browserText(t, b, "#errors"); !strings.Contains(e, "Official e-mail: Must be an official address: police.go.kr") { // the browser asks for English
		t.Fatalf("the form's error: %q", e)
	}
	browserStep(t, b, "the request", append(registrationForm(d, "lim.hajun@seoul.police.go.kr"), chromedp.WaitVisible(chromedp.ID("received")))...)

	adminSession, err := svc.StartSession(ctx, admin, account.StageOK, "test", "test")
	if err != nil {
		t.Fatal(err)
	}
	reviewer := d.Client(t)
	reviewer.SetSession(adminSession)
	var lim int64
	if err := db.QueryRow(ctx, `SELECT id FROM officer_registrations WHERE state = 'pending'`).Scan(&lim); err != nil {
		t.Fatal(err)
	}
	if code, body := reviewer.Do(t, http.MethodPost, "/registrations/"+strconv.FormatInt(lim, 10)+"/approve", url.Values{}, true); code != http.StatusOK ||
		!strings.Contains(body, "officer.lim") {
		t.Fatalf("approve: %d %.300s", code, body)
	}
	officer, err := svc.ByName(ctx, "officer.lim")
	if err != nil {
		t.Fatal(err)
	}
	officerSession, err := svc.StartSession(ctx, officer, account.StageOK, "test", "test")
	if err != nil {
		t.Fatal(err)
	}
	asOfficer := d.Client(t)
	asOfficer.SetSession(officerSession)
	if code, _ := asOfficer.Do(t, http.MethodGet, "/registrations", nil, false); code != http.StatusForbidden {
		t.Fatalf("the review as an officer: %d", code)
	}

	// Refusal and duplicates, over HTTP.
	visitor := d.Client(t)
	register := func(badge, email, username string) string {
		t.Helper()
		code, body := visitor.Do(t, http.MethodPost, "/register", url.Values{"full_name": {"남궁민"}, "agency": {"인천중부경찰서"}, "badge": {badge},
			"phone": {"032-123-4567"}, "email": {email}, "username": {username}, "password": {limChosen}, "confirm": {limChosen}}, true)
		if code != http.StatusOK || !strings.Contains(body, `id="received"`) {
			t.Fatalf("register %s: %d %.300s", username, code, body)
		}
		return body
	}
	first := register("IC7001", "namgung@police.go.kr", "officer.namgung")
	var rid int64
	if err := db.QueryRow(ctx, `SELECT id FROM officer_registrations WHERE state = 'pending'`).Scan(&rid); err != nil {
		t.Fatal(err)
	}
	// The same badge (spelled otherwise) as one pending, and as an officer's:
	// the same answer, nothing stored.
	if again := register("ic-7001", "other@police.go.kr", "officer.other"); again != first {
		t.Fatal("a duplicate request got another answer")
	}
	register("ND20417", "third@police.go.kr", "officer.third")
	var pending int
	db.QueryRow(ctx, `SELECT count(*) FROM officer_registrations WHERE state = 'pending'`).Scan(&pending)
	if pending != 1 {
		t.Fatalf("%d pending requests after two duplicates, want 1", pending)
	}

	path := "/registrations/" + strconv.FormatInt(rid, 10) + "/refuse"
	if code, _ := reviewer.Do(t, http.MethodPost, path, url.Values{"reason": {" "}}, true); code != http.StatusBadRequest {
		t.Fatalf("refuse without a reason: %d", code)
	}
	if code, body := reviewer.Do(t, http.MethodPost, path, url.Values{"reason": {"소속 확인 불가"}}, true); code != http.StatusOK || strings.Contains(body, "남궁민") {
		t.Fatalf("refuse: %d %.300s", code, body)
	}
	var state, reason string
	var left int
	if err := db.QueryRow(ctx, `SELECT state, reason, num_nonnulls(username, password_hash, full_name, agency, badge, badge_index, phone, email, email_index)
		FROM officer_registrations WHERE id = $1`, rid).Scan(&state, &reason, &left); err != nil || state != "refused" || reason != "소속 확인 불가" || left != 0 {
		t.Fatalf("the refused request: %s %q, %d personal columns left (%v)", state, reason, left, err)
	}

	m := d.Metrics(t)
	for _, want := range []string{`sealgate_officers_registrations_total{outcome="requested"} 2`, `sealgate_officers_registrations_total{outcome="approved"} 1`,
		`sealgate_officers_registrations_total{outcome="refused"} 1`, `sealgate_officers_registrations_total{outcome="duplicate"} 2`} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	// The review's routes are in the access table, for admins only (the
	// whole table is walked by TestEveryRouteRefusesOtherRoles).
	for _, r := range d.Addrs.Routes {
		if strings.HasPrefix(r.Path, "/registrations") && (r.Public || strings.Join(r.Roles, ",") != strings.Join(portalpages.AdminRoles, ",")) {
			t.Errorf("%s %s: %+v, want admins only", r.Method, r.Path, r)
		}
		if r.Path == "/register" && !r.Public {
			t.Errorf("%s /register is not public", r.Method)
		}
	}
}
