package innerd_test

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5/pgxpool"

	"sealgate/appliance/daemon/daemontest"
	"sealgate/appliance/innerd"
	"sealgate/inner/video/videotest"
	"sealgate/shared/account"
)

// TestTracePage: an admin uploads a marked copy in headless Chromium and
// gets its export code; an unmarked clip is "not found", a file that is not
// a video is refused; every trace is in the audit log and no upload is left
// on disk.
func TestTracePage(t *testing.T) {
	d, cfg, k := startConsole(t)
	original := videotest.Asset(t, "movie-hello.mp4")
	const payload = "00070000000004d2" // appliance 7, export serial 1234
	marked := filepath.Join(t.TempDir(), "leaked.mp4")
	run(t, "watermark", "--in", original, "--out", marked, "--payload", payload, "--key-dir", cfg.KeyDir)
	notVideo := filepath.Join(t.TempDir(), "notes.mp4")
	os.WriteFile(notVideo, []byte("minutes of the meeting, not a video\n"), 0o600)

	svc := daemontest.Accounts(t, cfg.Database.URL, innerd.Accounts, &k.Secrets)
	_, pw, err := svc.CreateUser(context.Background(), account.Actor{Name: "test"}, account.NewUser{Username: "chief", Role: "admin"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := daemontest.Browser(t)
	d.SignInFirstTime(t, ctx, "chief", pw, "Namsan Tower 63 lanterns!")

	trace := func(file string) (verdict, code, errMsg string) {
		t.Helper()
		err := chromedp.Do(ctx,
			chromedp.Navigate("https://"+d.Addrs.Web.String()+"/"),
			chromedp.Click(chromedp.CSS(`a[href="/trace"]`)), // the header links the page for this role
			chromedp.WaitVisible(chromedp.ID("clip")),
			chromedp.SetUploadFiles(chromedp.ID("clip"), []string{file}),
			chromedp.Click(chromedp.ID("submit")),
			chromedp.WaitVisible(chromedp.CSS(`#verdict, #error`)),
		)
		if err != nil {
			t.Fatalf("trace %s: %v", file, err)
		}
		js := func(id string) string {
			s, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.getElementById('`+id+`') || {}).textContent || ''`))
			return strings.TrimSpace(s)
		}
		return js("verdict"), js("export-code"), js("error")
	}

	verdict, code, _ := trace(marked)
	if code != payload || verdict == "" {
		t.Fatalf("marked copy: verdict %q, export code %q, want %s", verdict, code, payload)
	}
	verdict, code, _ = trace(original)
	if code != "" || verdict == "" {
		t.Fatalf("unmarked clip: verdict %q, export code %q", verdict, code)
	}
	if _, _, msg := trace(notVideo); msg == "" {
		t.Fatal("a text file was not refused")
	}

	pool, err := pgxpool.New(context.Background(), cfg.Database.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	var found, notFound, failed int
	pool.QueryRow(context.Background(), `SELECT count(*) FILTER (WHERE outcome = 'ok' AND detail LIKE 'found `+payload+`%'),
		count(*) FILTER (WHERE outcome = 'ok' AND detail LIKE 'not found%'), count(*) FILTER (WHERE outcome = 'failed')
		FROM audit_log WHERE action = 'watermark.trace' AND actor = 'chief' AND target LIKE 'sha256:%'`).Scan(&found, &notFound, &failed)
	if found != 1 || notFound != 1 || failed != 1 {
		t.Fatalf("audit: %d found, %d not found, %d failed traces; want 1 each", found, notFound, failed)
	}
	if left, _ := filepath.Glob(filepath.Join(cfg.DataDir, "tmp", "*")); len(left) != 0 {
		t.Fatalf("uploads left on disk: %v", left)
	}
}

// A body over the default limit is refused before anything reads it,
// unless a signed-in user with the route's role uploads.
func TestBodyLimit(t *testing.T) {
	d, _, _ := startConsole(t)
	c := d.Client(t)
	big := url.Values{"username": {"chief"}, "password": {strings.Repeat("x", 2<<20)}}
	for _, path := range []string{"/login", "/trace"} {
		if code, _ := c.Do(t, http.MethodPost, path, big, true); code != http.StatusRequestEntityTooLarge {
			t.Errorf("POST %s with 2 MiB, not signed in: %d, want 413", path, code)
		}
	}
}
