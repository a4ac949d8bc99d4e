package innerd_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5/pgxpool"

	"sealgate/appliance/daemon/daemontest"
	"sealgate/appliance/innerd"
	"sealgate/inner/ledger"
	"sealgate/inner/video/videotest"
	"sealgate/shared/account"
)

// TestTracePage: an admin uploads a copy marked for the ledger in headless
// Chromium and gets its export code, requester, reason and date; a copy
// marked by hand is found but named as not in the ledger; an unmarked clip
// is "not found", a file that is not a video is refused; the ledger page
// lists the export; every trace is in the audit log and no upload is left
// on disk.
func TestTracePage(t *testing.T) {
	d, cfg, k := startConsole(t)
	original := videotest.Asset(t, "movie-hello.mp4")
	const requester, reason = "경위 김민수, 강남경찰서 형사과", "절도 사건 2026-1123"
	marked := filepath.Join(t.TempDir(), "leaked.mp4")
	// The CLI uses the test database the daemon uses, as an operator's
	// command would use a running appliance's.
	var issued struct{ Export ledger.Entry }
	out := runEnv(t, []string{"SEALGATE_INNER_DATABASE_URL=" + cfg.Database.URL}, "watermark", "--in", original, "--out", marked,
		"--config", filepath.Join(filepath.Dir(cfg.DataDir), "inner.yaml"), "--requester", requester, "--reason", reason, "--json")
	if err := json.Unmarshal([]byte(out), &issued); err != nil || issued.Export.State != ledger.Issued {
		t.Fatalf("watermark for the ledger: %v\n%s", err, out)
	}
	payload := issued.Export.Payload
	const byHand = "00070000000004d2" // appliance 7, export serial 1234: in no ledger
	handMarked := filepath.Join(t.TempDir(), "other.mp4")
	run(t, "watermark", "--in", original, "--out", handMarked, "--payload", byHand, "--key-dir", cfg.KeyDir)
	notVideo := filepath.Join(t.TempDir(), "notes.mp4")
	os.WriteFile(notVideo, []byte("minutes of the meeting, not a video\n"), 0o600)

	svc := daemontest.Accounts(t, cfg.Database.URL, innerd.Accounts, &k.Secrets)
	_, pw, err := svc.CreateUser(context.Background(), account.Actor{Name: "test"}, account.NewUser{Username: "chief", Role: "admin"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := daemontest.Browser(t)
	d.SignInFirstTime(t, ctx, "chief", pw, "Namsan Tower 63 lanterns!")
	text := func(id string) string {
		s, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.getElementById('`+id+`') || {}).textContent || ''`))
		return strings.TrimSpace(s)
	}
	trace := func(file string) {
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
	}

	trace(marked)
	if text("export-code") != payload || text("verdict") == "" {
		t.Fatalf("marked copy: verdict %q, export code %q, want %s", text("verdict"), text("export-code"), payload)
	}
	if text("requester") != requester || text("reason") != reason || !strings.Contains(text("issued"), time.Now().In(kst).Format("2006-01-02")) ||
		text("copy") == "" || text("ledger-missing") != "" {
		t.Fatalf("marked copy's ledger row: requester %q, reason %q, issued %q, copy %q", text("requester"), text("reason"), text("issued"), text("copy"))
	}
	trace(handMarked)
	if text("export-code") != byHand || text("ledger-missing") == "" || text("requester") != "" {
		t.Fatalf("hand-marked copy: export code %q, ledger %q, requester %q", text("export-code"), text("ledger-missing"), text("requester"))
	}
	trace(original)
	if text("export-code") != "" || text("verdict") == "" {
		t.Fatalf("unmarked clip: verdict %q, export code %q", text("verdict"), text("export-code"))
	}
	trace(notVideo)
	if text("error") == "" {
		t.Fatal("a text file was not refused")
	}
	if err := chromedp.Do(ctx, chromedp.Navigate("https://"+d.Addrs.Web.String()+"/ledger/copies"), chromedp.WaitVisible(chromedp.ID("ledger"))); err != nil {
		t.Fatal(err)
	}
	if row := text("ledger"); !strings.Contains(row, payload) || !strings.Contains(row, requester) || !strings.Contains(row, "movie-hello.mp4") {
		t.Fatalf("ledger page: %q", row)
	}

	pool, err := pgxpool.New(context.Background(), cfg.Database.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	var found, notFound, failed int
	pool.QueryRow(context.Background(), `SELECT count(*) FILTER (WHERE outcome = 'ok' AND (detail LIKE 'found `+payload+`%ledger: issued%'
			OR detail LIKE 'found `+byHand+`%not in the ledger')),
		count(*) FILTER (WHERE outcome = 'ok' AND detail LIKE 'not found%'), count(*) FILTER (WHERE outcome = 'failed')
		FROM audit_log WHERE action = 'watermark.trace' AND actor = 'chief' AND target LIKE 'sha256:%'`).Scan(&found, &notFound, &failed)
	if found != 2 || notFound != 1 || failed != 1 {
		t.Fatalf("audit: %d found, %d not found, %d failed traces; want 2, 1, 1", found, notFound, failed)
	}
	if left, _ := filepath.Glob(filepath.Join(cfg.DataDir, "tmp", "*")); len(left) != 0 {
		t.Fatalf("uploads left on disk: %v", left)
	}
}

var kst = time.FixedZone("KST", 9*3600)

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
