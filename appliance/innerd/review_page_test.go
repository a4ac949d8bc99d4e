package innerd_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5/pgxpool"

	"sealgate/appliance/daemon/daemontest"
	"sealgate/appliance/innerd"
	"sealgate/inner/mask/plan"
	"sealgate/inner/video/videotest"
	"sealgate/shared/account"
)

// TestReviewEditor: an approver (TOTP signs in) uploads a clip in headless Chromium; the
// analysis (a child process) finds the face; they scrub to a frame,
// draws a box that the worker tracks across frames, marks the face as the
// data subject, previews the masked frame and saves. The saved plan on disk
// holds exactly those decisions, the audit log has them, and deleting the
// review removes the footage.
func TestReviewEditor(t *testing.T) {
	t.Setenv("SEALGATE_MODELS", videotest.Dir(t)) // where the analysis child finds the face model
	d, cfg, k := startConsole(t)
	svc := daemontest.Accounts(t, cfg.Database.URL, innerd.Accounts, &k.Secrets)
	_, pw, err := svc.CreateUser(context.Background(), account.Actor{Name: "test"}, account.NewUser{Username: "kim", Role: "approver"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := daemontest.Browser(t)
	d.SignInFirstTime(t, ctx, "kim", pw, "Gyeongbok palace 1395 gates!")

	js := func(expr string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		return s
	}
	step := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, 45*time.Second)
		defer cancel()
		if err := chromedp.Do(sctx, actions...); err != nil {
			t.Fatalf("%s: %v; the page says: %q", what, err, js(`document.body.innerText.slice(0, 600)`))
		}
	}
	frameShown := func(n int, masked string) chromedp.Action[chromedp.Void] {
		return chromedp.Poll[chromedp.Void](`document.getElementById('view').dataset.frame === '`+itoa(n)+`' && document.getElementById('view').dataset.masked === '`+masked+`'`, chromedp.WithPollingTimeout(30e9))
	}

	step("upload",
		chromedp.Navigate("https://"+d.Addrs.Web.String()+"/"),
		chromedp.Click(chromedp.CSS(`a[href="/reviews"]`)),
		chromedp.WaitVisible(chromedp.ID("clip")),
		chromedp.SetUploadFiles(chromedp.ID("clip"), []string{videotest.Asset(t, "movie-hello.mp4")}),
		chromedp.Click(chromedp.ID("submit")),
		// The page polls while the child analyses, then becomes the editor.
		chromedp.WaitVisible(chromedp.CSS(`#tracks tbody tr`)),
		frameShown(0, "0"),
	)
	id := js(`document.getElementById('editor').dataset.id`)
	dir := filepath.Join(cfg.DataDir, "reviews", id)
	auto := readPlan(t, filepath.Join(dir, "auto.json"))
	if len(auto.Tracks) == 0 || auto.Tracks[0].Kind != plan.KindFace {
		t.Fatalf("analysis found %d tracks, want the face first", len(auto.Tracks))
	}
	face := auto.Tracks[0]

	// Scrub to frame 120 and draw a box on the picture.
	const f0 = 120
	step("scrub", chromedp.Evaluate[chromedp.Void](`(s => { s.value = `+itoa(f0)+`; s.dispatchEvent(new Event('input')); })(document.getElementById('scrub'))`), frameShown(f0, "0"))
	var rect struct{ X, Y, W, H float64 }
	if err := json.Unmarshal([]byte(js(`JSON.stringify((r => ({X: r.left, Y: r.top, W: r.width, H: r.height}))(document.getElementById('view').getBoundingClientRect()))`)), &rect); err != nil {
		t.Fatal(err)
	}
	px := rect.W / float64(auto.Width) // screen pixels per frame pixel
	x0, y0 := rect.X+900*px, rect.Y+300*px
	step("draw",
		chromedp.MouseEvent(input.DispatchMouseEventTypeMousePressed, x0, y0, chromedp.ButtonLeft),
		chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, x0+60*px, y0+50*px, chromedp.ButtonLeft),
		chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, x0+120*px, y0+100*px, chromedp.ButtonLeft),
		chromedp.MouseEvent(input.DispatchMouseEventTypeMouseReleased, x0+120*px, y0+100*px, chromedp.ButtonLeft),
		chromedp.Click(chromedp.ID("track")),
		chromedp.WaitVisible(chromedp.CSS(`#tracks tbody tr:nth-child(`+itoa(len(auto.Tracks)+1)+`)`)),
	)
	step("the face is the data subject",
		chromedp.Click(chromedp.CSS(`#track-`+itoa(face.ID)+` button[data-act="subject"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#track-`+itoa(face.ID)+`.excluded`)),
		chromedp.Click(chromedp.ID("preview")),
		frameShown(f0, "1"),
		chromedp.Click(chromedp.ID("save")),
		chromedp.Poll[chromedp.Void](`document.getElementById('status').textContent.includes('SHA-256')`, chromedp.WithPollingTimeout(30e9)),
	)

	saved := readPlan(t, filepath.Join(dir, "plan.json"))
	var manual *plan.Track
	for i, tr := range saved.Tracks {
		switch {
		case tr.ID == face.ID && (!tr.Excluded || tr.Reason != plan.ReasonSubject):
			t.Fatalf("face track saved as excluded=%v reason=%q", tr.Excluded, tr.Reason)
		case tr.Source == plan.SourceManual:
			manual = &saved.Tracks[i]
		}
	}
	if manual == nil {
		t.Fatal("the drawn box is not in the saved plan")
	}
	var drawnAt *plan.Box
	for i, b := range manual.Boxes {
		if b.F == f0 {
			drawnAt = &manual.Boxes[i]
		}
	}
	if drawnAt == nil || drawnAt.By != plan.ByManual || abs(drawnAt.X-900) > 4 || abs(drawnAt.Y-300) > 4 || abs(drawnAt.W-120) > 4 || abs(drawnAt.H-100) > 4 {
		t.Fatalf("drawn box on frame %d: %+v, want about 900,300 120×100", f0, drawnAt)
	}
	if len(manual.Boxes) < 60 {
		t.Fatalf("the drawn box was carried over %d frames only", len(manual.Boxes))
	}

	pool, err := pgxpool.New(context.Background(), cfg.Database.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	var created, saves int
	var detail string
	pool.QueryRow(context.Background(), `SELECT count(*) FILTER (WHERE action = 'mask.review.create'), count(*) FILTER (WHERE action = 'mask.plan.save'),
		coalesce(max(detail) FILTER (WHERE action = 'mask.plan.save'), '') FROM audit_log WHERE actor = 'kim' AND target = $1`, "review:"+id).Scan(&created, &saves, &detail)
	sum, _ := saved.SHA256()
	if created != 1 || saves != 1 || !strings.Contains(detail, sum) || !strings.Contains(detail, "1 manual, 1 subjects") {
		t.Fatalf("audit: %d created, %d saves (%q); plan sha256 %s", created, saves, detail, sum)
	}

	step("delete", chromedp.Click(chromedp.ID("delete")), chromedp.WaitVisible(chromedp.ID("reviews")))
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("the review's footage is still on disk: %v", err)
	}
}

func readPlan(t *testing.T, path string) *plan.Plan {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p, err := plan.Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func abs(n int) int { return max(n, -n) }
