package innerd_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5/pgxpool"

	"sealgate/appliance/daemon"
	"sealgate/appliance/daemon/daemontest"
	"sealgate/appliance/innerd"
	"sealgate/inner/video/videotest"
	"sealgate/shared/account"
	"sealgate/shared/config"
	"sealgate/shared/keys"
	"sealgate/shared/pgdb/pgtest"
)

// TestExportWorkflowInTheBrowser walks the control center's daily work in
// headless Chromium: an operator registers a camera (its name checked as
// typed), uploads a clip whose connection breaks half-way and resumes,
// files a request (a wrong field named on the form), and an
// approver signed in with TOTP approves it and watches the stages finish
// live, until the sealed package is in the outbox.
func TestExportWorkflowInTheBrowser(t *testing.T) {
	t.Setenv("SEALGATE_MODELS", videotest.Dir(t))
	cfg := writeConfig(t, daemontest.DataDir(t))
	cfg.Database.URL = pgtest.NewDatabase(t, nil)
	run(t, "keys", "init", "--dir", cfg.KeyDir)
	outerKeys := filepath.Join(cfg.DataDir, "outer-keys")
	if err := keys.InitOuter(outerKeys); err != nil {
		t.Fatal(err)
	}
	cfg.Transfer.OuterLicense = filepath.Join(outerKeys, "license.pub")
	cfg.Pipeline.ReleaseCheck = config.ReleaseAlways // the approver looks before release
	k, err := keys.LoadInner(cfg.KeyDir)
	if err != nil {
		t.Fatal(err)
	}
	d := daemontest.Start(t, func(ctx context.Context, started func(daemon.Addrs)) error {
		return innerd.Serve(ctx, cfg, io.Discard, slog.New(slog.DiscardHandler), started)
	})
	svc := daemontest.Accounts(t, cfg.Database.URL, innerd.Accounts, &k.Secrets)
	_, opw, err := svc.CreateUser(context.Background(), account.Actor{Name: "test"}, account.NewUser{Username: "kim.op", Role: "operator"})
	if err != nil {
		t.Fatal(err)
	}
	_, apw, err := svc.CreateUser(context.Background(), account.Actor{Name: "test"}, account.NewUser{Username: "park.ap", Role: "approver"})
	if err != nil {
		t.Fatal(err)
	}
	base := "https://" + d.Addrs.Web.String()
	clip := filepath.Join(t.TempDir(), "cam12-20261201.mp4")
	videotest.FFmpeg(t, "-f", "lavfi", "-i", "testsrc2=s=640x360:r=10:d=4", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-b:v", "4M",
		"-metadata", "creation_time=2026-12-01T10:00:00Z", clip) // when the NVR recorded it
	recorded := func(s int) string {
		return time.Date(2026, 12, 1, 10, 0, s, 0, time.UTC).In(time.Local).Format("2006-01-02T15:04:05")
	}
	raw, _ := os.ReadFile(clip)
	sum := sha256.Sum256(raw)

	op := daemontest.Browser(t)
	d.SignInFirstTime(t, op, "kim.op", opw, "Gyeongbok palace 1395 gates!")
	step := stepper(t, op)
	js := evaluator(t, op)

	step("register a camera",
		chromedp.Navigate(base+"/cameras"),
		chromedp.SendKeys(chromedp.ID("camera-name"), "역삼역 4번 출구"),
		chromedp.Poll[chromedp.Void](`document.getElementById('camera-name-check').textContent !== ''`, chromedp.WithPollingTimeout(10e9)),
		chromedp.SendKeys(chromedp.ID("location"), "서울 강남구 역삼동 823"),
		chromedp.Click(chromedp.ID("camera-add")),
		chromedp.WaitVisible(chromedp.CSS(`#cameras tr[data-camera="1"]`)),
	)
	// The name is now taken, and the form says so as it is typed.
	step("name check",
		chromedp.SendKeys(chromedp.ID("camera-name"), "역삼역 4번 출구"),
		chromedp.Poll[chromedp.Void](`document.getElementById('camera-name-check').classList.contains('error')`, chromedp.WithPollingTimeout(10e9)),
	)

	// Upload in small chunks, and cut the connection once it is under way.
	if _, err := chromedp.Call(op, network.Enable, network.EnableParams{}); err != nil {
		t.Fatal(err)
	}
	step("start the upload",
		chromedp.Navigate(base+"/footage"),
		chromedp.WaitVisible(chromedp.ID("upload-file")),
		chromedp.Evaluate[chromedp.Void](`document.getElementById('upload-form').dataset.chunk = String(8 << 10)`),
		chromedp.SetUploadFiles(chromedp.ID("upload-file"), []string{clip}),
		chromedp.Click(chromedp.ID("upload-submit")),
		chromedp.Poll[chromedp.Void](`document.getElementById('upload-progress').value > 0.2`, chromedp.WithPollingTimeout(20e9)),
	)
	block := func(on bool) {
		t.Helper()
		p := network.SetBlockedURLsParams{}
		if on {
			p.URLPatterns = []*network.BlockPattern{{URLPattern: "https://*:*/uploads/*", Block: true}}
		}
		if _, err := chromedp.Call(op, network.SetBlockedURLs, p); err != nil {
			t.Fatal(err)
		}
	}
	block(true)
	step("the upload notices the break",
		chromedp.Poll[chromedp.Void](`document.getElementById('upload-status').textContent === document.getElementById('upload-status').dataset.resuming`, chromedp.WithPollingTimeout(20e9)))
	stalled := js(`String(document.getElementById('upload-progress').value)`)
	block(false)
	step("the upload resumes and the clip is ingested",
		chromedp.WaitVisible(chromedp.ID("export-form")), // the upload leads to the request form
	)
	if stalled == "1" {
		t.Fatal("the upload had finished before the connection was cut")
	}
	if !strings.Contains(js(`document.body.innerText`), hex.EncodeToString(sum[:])) {
		t.Fatal("the request form does not show the clip's SHA-256 as uploaded")
	}

	// The police name a camera and a time: the finder cuts the request
	// to the recording that holds it, and says when it holds only part.
	step("a period past the recording",
		chromedp.Navigate(base+"/exports/new"),
		chromedp.SetValue(chromedp.ID("camera"), "1"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById('from').value = '`+recorded(0)+`'`),
		chromedp.Evaluate[chromedp.Void](`document.getElementById('to').value = '`+recorded(9)+`'`),
		chromedp.Click(chromedp.ID("find-submit")),
		chromedp.WaitVisible(chromedp.CSS(`[data-field="to"]`)),
	)
	if msg := js(`document.querySelector('[data-field="to"]').textContent`); !strings.Contains(msg, "the recording holds") {
		t.Errorf("the finder says %q for a period past the recording", msg)
	}
	step("find the recording by camera and period",
		chromedp.Evaluate[chromedp.Void](`document.getElementById('to').value = '`+recorded(3)+`'`),
		chromedp.Click(chromedp.ID("find-submit")),
		chromedp.WaitVisible(chromedp.ID("export-form")),
	)
	if got := js(`document.getElementById('from').value + ' ' + document.querySelector('[name=footage]').value`); got != recorded(0)[:16]+" 1" { // a browser drops :00 seconds
		t.Errorf("the finder's request form starts %q, want %q", got, recorded(0)[:16]+" 1")
	}

	// A cut past the clip's end is refused on the form, by field, in Korean.
	step("a wrong field",
		chromedp.SetValue(chromedp.ID("reason"), "assault"),
		chromedp.SendKeys(chromedp.ID("detail"), "폭행 사건 수사"),
		chromedp.SendKeys(chromedp.ID("requester_name"), "경위 김민수"),
		chromedp.SendKeys(chromedp.ID("agency"), "강남경찰서"),
		chromedp.SendKeys(chromedp.ID("document_no"), "강남-2026-77"),
		chromedp.SendKeys(chromedp.ID("recipient"), "officer.kim"),
		chromedp.SetValue(chromedp.ID("to"), "99"),
		chromedp.Click(chromedp.ID("export-submit")),
		chromedp.WaitVisible(chromedp.CSS(`[data-field="to"]`)),
	)
	if msg := js(`document.querySelector('[data-field="to"]').textContent`); !strings.Contains(msg, "To: must fall within the footage (4.0 s)") {
		t.Errorf("the field error says %q", msg)
	}
	step("file the request",
		chromedp.SetValue(chromedp.ID("to"), "3"),
		chromedp.Click(chromedp.ID("export-submit")),
		chromedp.WaitVisible(chromedp.CSS(`#state[data-state="requested"]`)),
	)
	exportURL := js(`location.pathname`)
	if js(`String(!!document.getElementById('approve'))`) != "false" {
		t.Error("the requester is offered the approval")
	}

	ap := daemontest.Browser(t)
	d.SignInFirstTime(t, ap, "park.ap", apw, "Hwaseong fortress 1796 walls!")
	astep := stepper(t, ap)
	ajs := evaluator(t, ap)
	astep("approve",
		chromedp.Navigate(base+exportURL),
		chromedp.SendKeys(chromedp.ID("approve-reason"), "공문 확인"),
		chromedp.Click(chromedp.ID("approve")),
		chromedp.WaitVisible(chromedp.CSS(`#state`)),
	)
	// Rendered and leak-checked, the export waits: the page brings the
	// release form by itself, with the masked preview and each suspect
	// frame to confirm.
	awaitRelease := func() {
		t.Helper()
		for deadline := time.Now().Add(90 * time.Second); ; { // through the page's own reload
			if s, err := chromedp.Run(ap, chromedp.Evaluate[bool](`!!document.getElementById('release')`)); err == nil && s {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the release form never came; the page says %q", ajs(`document.body.innerText.slice(0, 800)`))
			}
			time.Sleep(300 * time.Millisecond)
		}
	}
	awaitRelease()
	astep("the preview", chromedp.WaitVisible(chromedp.ID("preview")))
	// The approver sends it back to the review editor once; the plan is
	// saved there, the export rendered again with it and checked again.
	astep("send back to review",
		chromedp.SendKeys(chromedp.ID("send-back-reason"), "오른쪽 위 보행자 확인 필요"),
		chromedp.Click(chromedp.ID("send-back")),
		chromedp.WaitVisible(chromedp.ID("review-link")),
	)
	astep("the review editor",
		chromedp.Click(chromedp.ID("review-link")),
		chromedp.WaitVisible(chromedp.ID("save")),
	)
	astep("save and render again",
		chromedp.Click(chromedp.ID("save")),
		chromedp.Poll[chromedp.Void](`document.getElementById('status').textContent.includes('SHA-256')`, chromedp.WithPollingTimeout(30e9)),
		chromedp.Navigate(base+exportURL),
		chromedp.Click(chromedp.ID("rerender")),
		chromedp.WaitVisible(chromedp.CSS(`#state`)),
	)
	awaitRelease()

	suspects := ajs(`String(document.querySelectorAll('input[name=confirm]').length)`)
	t.Logf("suspect frames to confirm: %s", suspects)
	if ajs(`String(document.querySelectorAll('#suspects img').length)`) != suspects {
		t.Error("a suspect is listed without its frame")
	}
	astep("release",
		chromedp.Evaluate[chromedp.Void](`document.querySelectorAll('input[name=confirm]').forEach(c => c.checked = true)`),
		chromedp.SendKeys(chromedp.ID("release-reason"), "미리보기 확인"),
		chromedp.Click(chromedp.ID("release")),
		chromedp.WaitVisible(chromedp.CSS(`#state`)),
	)
	// No reload from here: the page follows the stages over server-sent events.
	ajs(`window.sealgateMark = 'not reloaded'`)
	astep("the stages finish live",
		chromedp.Poll[chromedp.Void](`['transcode','render','seal','outbox'].every(s => document.querySelector('[data-stage="'+s+'"]').dataset.stageState === 'done')`,
			chromedp.WithPollingTimeout(90e9)),
		chromedp.Poll[chromedp.Void](`['queued','transferring'].includes(document.getElementById('state').dataset.state)`, chromedp.WithPollingTimeout(10e9)),
	)
	if ajs(`window.sealgateMark`) != "not reloaded" {
		t.Error("the page reloaded instead of following the stages")
	}
	pkg := ajs(`document.querySelector('[data-package]').textContent`)
	pool, err := pgxpool.New(context.Background(), cfg.Database.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	var n int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM outbox WHERE encode(sha256, 'hex') = $1`, pkg).Scan(&n); err != nil || n != 1 {
		t.Fatalf("package %q in the outbox: %d rows, %v", pkg, n, err)
	}
	var sentBack, rendered int
	pool.QueryRow(context.Background(), `SELECT count(*) FROM export_event WHERE to_state = 'reviewing'`).Scan(&sentBack)
	pool.QueryRow(context.Background(), `SELECT attempts FROM export_stage WHERE stage = 'render'`).Scan(&rendered)
	if sentBack != 1 || rendered != 2 {
		t.Errorf("sent back %d times, rendered %d times; want 1 and 2", sentBack, rendered)
	}
	// The first render's copy never left: its serial is withdrawn, the second issued.
	var states string
	pool.QueryRow(context.Background(), `SELECT string_agg(state, ',' ORDER BY serial) FROM ledger`).Scan(&states)
	if states != "withdrawn,issued" {
		t.Errorf("the ledger's rows after a send-back: %s, want withdrawn,issued", states)
	}
	var original string
	pool.QueryRow(context.Background(), `SELECT encode(sha256, 'hex') FROM footage WHERE id = 1`).Scan(&original)
	if original != hex.EncodeToString(sum[:]) {
		t.Errorf("ingested SHA-256 %s, uploaded %x", original, sum)
	}
}

func stepper(t *testing.T, ctx context.Context) func(string, ...chromedp.Action[chromedp.Void]) {
	return func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, 100*time.Second)
		defer cancel()
		if err := chromedp.Do(sctx, actions...); err != nil {
			s, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText.slice(0, 800)`))
			t.Fatalf("%s: %v; the page says: %q", what, err, s)
		}
	}
}

func evaluator(t *testing.T, ctx context.Context) func(string) string {
	return func(expr string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		return s
	}
}
