package innerd_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
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
// draws a box that the worker tracks across frames, moves it on one frame,
// re-tracks from there and cuts the track short, marks the face as the
// data subject, previews the masked frame and saves. The saved plan in the
// database holds exactly those decisions, the audit log has them, and deleting the
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
	pool, err := pgxpool.New(context.Background(), cfg.Database.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	auto := readPlan(t, pool, id, "draft") // before any edit, the analysis's plan
	if len(auto.Tracks) == 0 || auto.Tracks[0].Kind != plan.KindFace {
		t.Fatalf("analysis found %d tracks, want the face first", len(auto.Tracks))
	}
	face := auto.Tracks[0]

	// Scrub to frame 120 and draw a box on the picture.
	const f0 = 120
	step("scrub", chromedp.Evaluate[chromedp.Void](`(s => { s.value = `+itoa(f0)+`; s.dispatchEvent(new Event('input')); })(document.getElementById('scrub'))`), frameShown(f0, "0"))
	// The picture's place on the screen (clicks elsewhere scroll the page).
	var rect struct{ X, Y, W, H float64 }
	measure := func() {
		t.Helper()
		if err := json.Unmarshal([]byte(js(`JSON.stringify((v => { v.scrollIntoView(); const r = v.getBoundingClientRect(); return {X: r.left, Y: r.top, W: r.width, H: r.height}; })(document.getElementById('view')))`)), &rect); err != nil {
			t.Fatal(err)
		}
	}
	measure()
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
	at := func(tr plan.Track, f int) plan.Box {
		for _, b := range tr.Boxes {
			if b.F == f {
				return b
			}
		}
		return plan.Box{F: -1}
	}
	// The drawn track, as the draft holds it once cond is true.
	manualTrack := func(what string, cond func(plan.Track) bool) plan.Track {
		t.Helper()
		var last plan.Track
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			for _, tr := range readPlan(t, pool, id, "draft").Tracks {
				if tr.Source == plan.SourceManual {
					if last = tr; cond(tr) {
						return tr
					}
				}
			}
		}
		t.Fatalf("%s: the drawn track is %d boxes, frames %d..%d, %+v and %+v on %d and after; the page says %q", what, len(last.Boxes), first(last), lastF(last), at(last, f0), at(last, f0+1), f0, js(`document.getElementById('status').textContent`))
		return last
	}
	tracked := manualTrack("tracked", func(tr plan.Track) bool { return len(tr.Boxes) >= 60 })

	// Correct the box on f0: drag it 30 px right; only that frame changes.
	// The editor refreshes its boxes after tracking (review.js edited_):
	// press only once it has drawn them, or the press finds no box.
	step("tracked boxes drawn", frameShown(f0, "0"))
	measure()
	bx, by := rect.X+960*px, rect.Y+350*px
	step("move",
		chromedp.MouseEvent(input.DispatchMouseEventTypeMousePressed, bx, by, chromedp.ButtonLeft),
		chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, bx+15*px, by, chromedp.ButtonLeft),
		chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, bx+30*px, by, chromedp.ButtonLeft),
		chromedp.MouseEvent(input.DispatchMouseEventTypeMouseReleased, bx+30*px, by, chromedp.ButtonLeft),
		chromedp.WaitVisible(chromedp.ID("retrack")), // the track is selected
		frameShown(f0, "0"), // the editor has drawn the edited draft
	)
	moved := manualTrack("moved", func(tr plan.Track) bool { return abs(at(tr, f0).X-930) <= 4 })
	if b := at(moved, f0); b.By != plan.ByManual || abs(b.Y-300) > 4 || abs(b.W-120) > 4 || len(moved.Boxes) != len(tracked.Boxes) || at(moved, f0+1) != at(tracked, f0+1) {
		t.Fatalf("after moving the box on frame %d: %+v, %d boxes (were %d)", f0, b, len(moved.Boxes), len(tracked.Boxes))
	}
	// Re-track 2 s from the corrected box: the track after f0 is replaced
	// by what the tracker finds from there (so it now ends within 2 s).
	step("re-track",
		chromedp.SetValue(chromedp.ID("span"), "2"),
		chromedp.Click(chromedp.ID("retrack")))
	retracked := manualTrack("re-tracked", func(tr plan.Track) bool {
		return lastF(tr) > f0 && lastF(tr) < f0+70 && at(tr, f0+1).By == plan.ByTracker
	})
	if at(retracked, f0-1) != at(tracked, f0-1) || at(retracked, f0) != at(moved, f0) {
		t.Fatalf("re-tracking changed the corrected frame or the one before: %+v, %+v", at(retracked, f0-1), at(retracked, f0))
	}
	// Cut the track to frames f0..f0+40.
	step("start here", chromedp.Click(chromedp.ID("cut-before")))
	manualTrack("cut before", func(tr plan.Track) bool { return first(tr) == f0 })
	step("end here",
		chromedp.Evaluate[chromedp.Void](`(s => { s.value = `+itoa(f0+40)+`; s.dispatchEvent(new Event('input')); })(document.getElementById('scrub'))`),
		frameShown(f0+40, "0"),
		chromedp.Click(chromedp.ID("cut-after")))
	cut := manualTrack("cut after", func(tr plan.Track) bool { return lastF(tr) == f0+40 && len(tr.Boxes) == 41 })

	// Refused, with the draft unchanged: moving a detection's box (the
	// export detects again), a cut that leaves nothing, a box off the frame.
	post := func(path, body string) int {
		t.Helper()
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`fetch('/reviews/`+id+path+`', {method: 'POST', credentials: 'same-origin',
			headers: {'Content-Type': 'application/json', 'X-CSRF-Token': document.getElementById('csrf').value}, body: '`+body+`'}).then(r => r.status)`, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	for path, body := range map[string]string{
		"/tracks/" + itoa(face.ID) + "/box":   `{"frame": 10, "x": 10, "y": 10, "w": 50, "h": 50}`,
		"/tracks/" + itoa(cut.ID):             `{"action": "cut_after", "frame": ` + itoa(f0-1) + `}`,
		"/tracks/" + itoa(cut.ID) + "/box":    `{"frame": 130, "x": 1250, "y": 10, "w": 50, "h": 50}`,
		"/tracks/" + itoa(cut.ID+99) + "/box": `{"frame": 130, "x": 10, "y": 10, "w": 50, "h": 50}`,
	} {
		if n := post(path, body); n != 400 && n != 404 {
			t.Errorf("POST %s %s: %d, want a refusal", path, body, n)
		}
	}
	manualTrack("after refusals", func(tr plan.Track) bool { return slices.Equal(tr.Boxes, cut.Boxes) })

	step("the face is the data subject",
		chromedp.Click(chromedp.CSS(`#track-`+itoa(face.ID)+` button[data-act="subject"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#track-`+itoa(face.ID)+`.excluded`)),
		chromedp.Click(chromedp.ID("preview")),
		frameShown(f0+40, "1"),
		chromedp.Click(chromedp.ID("save")),
		chromedp.Poll[chromedp.Void](`document.getElementById('status').textContent.includes('SHA-256')`, chromedp.WithPollingTimeout(30e9)),
	)

	saved := readPlan(t, pool, id, "plan")
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
	if drawnAt == nil || drawnAt.By != plan.ByManual || abs(drawnAt.X-930) > 4 || abs(drawnAt.Y-300) > 4 || abs(drawnAt.W-120) > 4 || abs(drawnAt.H-100) > 4 {
		t.Fatalf("drawn and moved box on frame %d: %+v, want about 930,300 120×100", f0, drawnAt)
	}
	if len(manual.Boxes) != 41 {
		t.Fatalf("the saved track has %d boxes, want the 41 of frames %d..%d", len(manual.Boxes), f0, f0+40)
	}

	var created, saves int
	var detail string
	pool.QueryRow(context.Background(), `SELECT count(*) FILTER (WHERE action = 'mask.review.create'), count(*) FILTER (WHERE action = 'mask.plan.save'),
		coalesce(max(detail) FILTER (WHERE action = 'mask.plan.save'), '') FROM audit_log WHERE actor = 'kim' AND target = $1`, "review:"+id).Scan(&created, &saves, &detail)
	sum, _ := saved.SHA256()
	if created != 1 || saves != 1 || !strings.Contains(detail, sum) || !strings.Contains(detail, "1 manual, 1 subjects") {
		t.Fatalf("audit: %d created, %d saves (%q); plan sha256 %s", created, saves, detail, sum)
	}
	// The unmasked frames the editor showed are on record, as ranges.
	var rawViews int
	var rawDetail string
	pool.QueryRow(context.Background(), `SELECT count(*), coalesce(min(detail), '') FROM audit_log WHERE action = 'mask.review.view_raw' AND actor = 'kim' AND target = $1`,
		"review:"+id).Scan(&rawViews, &rawDetail)
	if rawViews == 0 || !regexp.MustCompile(`^unmasked frames \d+(-\d+)?(, \d+(-\d+)?)*$`).MatchString(rawDetail) {
		t.Errorf("raw frames seen: %d audit entries (%q)", rawViews, rawDetail)
	}

	step("delete", chromedp.Click(chromedp.ID("delete")), chromedp.WaitVisible(chromedp.ID("reviews")))
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("the review's footage is still on disk: %v", err)
	}
}

// readPlan is the workspace's draft or saved plan, as the database holds it.
func readPlan(t *testing.T, pool *pgxpool.Pool, id, column string) *plan.Plan {
	t.Helper()
	var b []byte
	if err := pool.QueryRow(context.Background(), `SELECT `+column+` FROM review_workspaces WHERE id = $1`, id).Scan(&b); err != nil {
		t.Fatalf("review %s's %s: %v", id, column, err)
	}
	p, err := plan.Parse(bytes.NewReader(b))
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

func first(t plan.Track) int {
	if len(t.Boxes) == 0 {
		return -1
	}
	return t.Boxes[0].F
}

func lastF(t plan.Track) int {
	if len(t.Boxes) == 0 {
		return -1
	}
	return t.Boxes[len(t.Boxes)-1].F
}
