package daemontest

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"
)

// chromium is Debian's browser, installed by `make deps`.
const chromium = "/usr/bin/chromium"

// Browser starts headless Chromium for the test (a fresh profile, no
// network but loopback) and returns a context that drives it.
func Browser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromium); err != nil {
		t.Fatalf("headless Chromium is needed for browser tests: %v (install it with `make deps`)", err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.NoSandbox, // the tests run as root
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("ignore-certificate-errors", true), // the daemon's self-signed certificate
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return ctx
}

// SignInFirstTime drives a browser through an account's first sign-in as a
// person would: the generated password, the forced change to newPassword,
// TOTP enrolment with a code computed from the secret shown on the page,
// the recovery codes (for the roles that need TOTP), and the home page.
func (d *Daemon) SignInFirstTime(t *testing.T, ctx context.Context, username, password, newPassword string) {
	t.Helper()
	base := "https://" + d.Addrs.Web.String()
	type id = chromedp.ID
	err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(id("username")), // redirected to sign in
		chromedp.SendKeys(id("username"), username),
		chromedp.SendKeys(id("password"), password),
		chromedp.Click(id("submit")),
		chromedp.WaitVisible(id("current")), // must change the password
		chromedp.SendKeys(id("current"), password),
		chromedp.SendKeys(id("new"), newPassword),
		chromedp.SendKeys(id("confirm"), newPassword),
		chromedp.Click(id("submit")),
		chromedp.WaitVisible(chromedp.CSS("#secret, #welcome")), // TOTP enrolment where the role needs it, else home
	)
	if err != nil {
		t.Fatalf("sign-in up to TOTP enrolment: %v", err)
	}
	if home, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`!!document.getElementById('welcome')`)); home {
		return
	}
	secret, err := chromedp.Run(ctx, chromedp.Text(id("secret")))
	if err != nil {
		t.Fatal(err)
	}
	code, err := totp.GenerateCode(strings.TrimSpace(secret), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(id("code"), code),
		chromedp.Click(id("submit")),
		chromedp.WaitVisible(id("codes")),
	); err != nil {
		t.Fatalf("TOTP enrolment: %v", err)
	}
	codes, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#codes code')].map(e => e.textContent)`))
	if err != nil || len(codes) != 10 {
		t.Fatalf("recovery codes: %v %v", codes, err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(id("continue")), chromedp.WaitVisible(id("welcome"))); err != nil {
		t.Fatalf("home page: %v", err)
	}
	if welcome, _ := chromedp.Run(ctx, chromedp.Text(id("welcome"))); !strings.Contains(welcome, username) {
		t.Fatalf("home page greets %q", welcome)
	}
}

// PostStatus posts from the page's own JavaScript, without the CSRF token
// (what an injected script or a forged form could do), and returns the status.
func PostStatus(t *testing.T, ctx context.Context, path string) int {
	t.Helper()
	js := "fetch(`" + path + "`, {method: 'POST', headers: {'Content-Type': 'application/x-www-form-urlencoded'}, body: 'role=admin'}).then(r => r.status)"
	status, err := chromedp.Run(ctx, chromedp.Evaluate[int](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("fetch %s: %v", path, err)
	}
	return status
}

// Welcome returns the home page's greeting, loading it first.
func (d *Daemon) Welcome(t *testing.T, ctx context.Context) string {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate("https://"+d.Addrs.Web.String()+"/"), chromedp.WaitReady(chromedp.CSS("body"))); err != nil {
		t.Fatal(err)
	}
	s, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.getElementById('welcome') || {}).textContent || ''`))
	return s
}
