package outerd_test

import (
	"context"
	"errors"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"sealgate/appliance/daemon/daemontest"
	"sealgate/shared/account"
)

// TestPortalAcceptance walks issue 23's acceptance in headless Chromium
// against one real outerd: a visitor requests an officer account through
// the sign-in page's link, an outer admin approves it, the officer signs
// in (the chosen password, TOTP enrolment) and sees exactly the packages
// addressed to them; plays one (past 2 s, their name on the overlay, a
// seek to the middle plays); gets 404 for another officer's; and once the
// window of one of theirs has ended, the daemon's sweeper destroys it (at
// its start, after downtime): 410, and its file is gone from disk.
func TestPortalAcceptance(t *testing.T) {
	p := startPortal(t)
	_, adminPW, err := p.svc.CreateUser(context.Background(), account.Actor{Name: "test"}, account.NewUser{Username: "admin.choi", Role: "admin"})
	if err != nil {
		t.Fatal(err)
	}
	const seconds = 20
	clip := storeClip(t, p.cfg, p.outer, fragmentedClip(t, seconds), "officer.lim", "SG-2026-000601")
	day := time.Date(2026, 11, 3, 14, 0, 0, 0, time.UTC)
	other := p.arrive(t, manifest("SG-2026-000602", "officer.park", "정문 CCTV-01", "서울 중구 세종대로 110", day, 7*24*time.Hour), 10<<10)

	b := daemontest.Browser(t)
	browserStep(t, b, "the request", append(registrationForm(p.d, "lim.hajun@seoul.police.go.kr"), chromedp.WaitVisible(chromedp.ID("received")))...)
	approveInBrowser(t, p.d, b, "admin.choi", adminPW)
	officerFirstSignIn(t, b)

	// One more of theirs arrives, viewable for a few seconds only.
	m := manifest("SG-2026-000603", "officer.lim", "후문", "세종대로 112", day, 5*time.Second)
	expiring := p.arrive(t, m, 10<<10)
	browserStep(t, b, "the catalog", chromedp.Navigate("https://"+p.d.Addrs.Web.String()+"/packages"), chromedp.WaitVisible(chromedp.ID("packages")))
	ids, err := chromedp.Run(b, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#packages tr.package')].map(r => r.dataset.id)`))
	if want := []string{expiring, clip}; err != nil || !slices.Equal(ids, want) { // newest arrival first
		t.Fatalf("officer.lim's catalog: %v %v, want %v", ids, err, want)
	}
	status := func(path string) int {
		t.Helper()
		code, err := chromedp.Run(b, chromedp.Evaluate[int](`fetch('`+path+`').then(r => r.status)`, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("fetch %s: %v", path, err)
		}
		return code
	}
	for _, path := range []string{"/packages/" + other, "/packages/" + other + "/package"} {
		if code := status(path); code != http.StatusNotFound {
			t.Errorf("another officer's %s: %d, want 404", path, code)
		}
	}

	browserStep(t, b, "the player", chromedp.Navigate("https://"+p.d.Addrs.Web.String()+"/packages/"+clip+"/play"), chromedp.WaitVisible(chromedp.ID("video")))
	playerWait(t, b, "playing past 2 s", `document.getElementById('video').currentTime > 2`, 40*time.Second)
	if o := pageJS(t, b, `document.getElementById('overlay').textContent`); !strings.Contains(o, limName) {
		t.Errorf("the overlay says %q, want the officer's name %s", o, limName)
	}
	pageJS(t, b, `String(document.getElementById('video').currentTime = 10)`)
	playerWait(t, b, "playing past the middle", `document.getElementById('video').currentTime > 11.5 && document.getElementById('video').currentTime < 15`, 30*time.Second)

	// The window ends; the daemon, started again, sweeps at once.
	time.Sleep(time.Until(m.ViewUntil))
	file := filepath.Join(p.cfg.Transfer.StoreDir, expiring+".sgpkg")
	if _, err := os.Stat(file); err != nil {
		t.Fatalf("the expiring package's file before the sweep: %v", err)
	}
	// Leave the player first: a chunk it is still fetching would hold the
	// daemon's shutdown to its grace (seen under the full suite's load).
	browserStep(t, b, "leave the player", chromedp.Navigate("about:blank"))
	p.restart(t)
	// Cleanups run last first: the browser closes before the restarted
	// daemon stops, as it did before the first one.
	t.Cleanup(func() { chromedp.Cancel(b) })
	for end := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if _, err := os.Stat(file); errors.Is(err, fs.ErrNotExist) {
			break
		}
		if time.Now().After(end) {
			t.Fatalf("the expired package's file is still on disk: %s", file)
		}
	}
	browserStep(t, b, "the catalog, after the sweep", chromedp.Navigate("https://"+p.d.Addrs.Web.String()+"/packages"), chromedp.WaitVisible(chromedp.ID("packages")))
	for _, path := range []string{"/packages/" + expiring, "/packages/" + expiring + "/package"} {
		if code := status(path); code != http.StatusGone {
			t.Errorf("the expired %s: %d, want 410", path, code)
		}
	}
	if es := auditOf(t, p, "package.destroy", expiring); len(es) != 1 || es[0].Actor != "system" || !strings.Contains(es[0].Detail, "viewing period ended") {
		t.Errorf("the destruction is audited as %+v", es)
	}
	if metrics := p.d.Metrics(t); !strings.Contains(metrics, `sealgate_expiry_destroyed_total{cause="expired"} 1`) {
		t.Error("the restarted daemon's sweeper did not count the destruction")
	}
}
