package export_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"sealgate/inner/export"
	"sealgate/inner/ledger"
	"sealgate/inner/requester/requestertest"
	"sealgate/inner/store"
	"sealgate/inner/video/videotest"
	"sealgate/inner/watermark"
	"sealgate/shared/account"
	"sealgate/shared/audit"
	"sealgate/shared/pgdb/pgtest"
)

var (
	operator  = export.Actor{User: "operator.kim", Role: "operator", Via: "console"}
	operator2 = export.Actor{User: "operator.lee", Role: "operator", Via: "console"}
	approver  = export.Actor{User: "approver.park", Role: "approver", Via: "console"}
	auditor   = export.Actor{User: "auditor.choi", Role: "auditor", Via: "console"}
	admin     = export.Actor{User: "chief", Role: "admin", Via: "cli"}
)

type fixture struct {
	wf      *export.Workflow
	pii     *account.PII
	pool    *pgxpool.Pool
	log     *audit.Log
	started []int64 // exports the pipeline was asked to start
	cam     *export.Camera
}

func newWorkflow(t *testing.T) *fixture {
	t.Helper()
	key := make([]byte, 32)
	rand.Read(key)
	fx := &fixture{pool: pgtest.NewPool(t, store.Migrations()), pii: requestertest.PII(t)}
	fx.log = audit.New(fx.pool, key)
	wf, err := export.New(fx.pool, fx.log, export.WorkflowConfig{FootageDir: filepath.Join(t.TempDir(), "footage"), Retention: 30 * 24 * time.Hour, PII: fx.pii,
		Start: func(ctx context.Context, tx pgx.Tx, id int64) error { fx.started = append(fx.started, id); return nil }})
	if err != nil {
		t.Fatal(err)
	}
	fx.wf = wf
	return fx
}

// clip is a real 2 s H.264 clip made by ffmpeg.
func clip(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "cam 12 – 2026-12-01.mp4")
	videotest.FFmpeg(t, "-f", "lavfi", "-i", "testsrc2=s=320x240:r=10:d=2", "-c:v", "libx264", "-pix_fmt", "yuv420p", out)
	return out
}

func (fx *fixture) camera(t *testing.T) *export.Camera {
	t.Helper()
	c, err := fx.wf.AddCamera(context.Background(), operator, export.Camera{Name: "역삼역 4번 출구", Location: "서울 강남구 역삼동 823", VMSID: "NVR2-CH12"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (fx *fixture) footage(t *testing.T) *export.Footage {
	t.Helper()
	if fx.cam == nil {
		fx.cam = fx.camera(t)
	}
	f, err := fx.wf.ImportFile(context.Background(), operator, fx.cam.ID, clip(t))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func request(f *export.Footage) export.Request {
	return export.Request{FootageID: f.ID, ReasonCode: "theft", Detail: "편의점 절도 사건 수사", RequesterName: "경위 김민수",
		Agency: "강남경찰서", DocumentNo: "강남-2026-1123", Recipient: "officer.kim", ViewingDays: 15}
}

func TestCameraRegistry(t *testing.T) {
	ctx := context.Background()
	fx := newWorkflow(t)
	c := fx.camera(t)
	if c.ID == 0 || c.Kind != "fixed" || c.RegisteredBy != "operator.kim" {
		t.Fatalf("camera = %+v", c)
	}
	// Names are unique in service, whatever the case; the form says so in both languages.
	_, err := fx.wf.AddCamera(ctx, admin, export.Camera{Name: " 역삼역 4번 출구 ", Location: "elsewhere"})
	var fes export.FieldErrors
	if !errors.As(err, &fes) || fes.Field("camera_name") == nil || fes.Field("camera_name").Problem != "taken" {
		t.Fatalf("duplicate name: %v", err)
	}
	if msg := fes.Field("camera_name").Message("ko"); !strings.Contains(msg, "카메라 이름") {
		t.Errorf("Korean message %q does not name the field", msg)
	}
	if free, _ := fx.wf.CameraNameFree(ctx, "역삼역 4번 출구", 0); free {
		t.Error("the name in use is reported free")
	}
	// Auditors read; they do not register.
	if _, err := fx.wf.AddCamera(ctx, auditor, export.Camera{Name: "x", Location: "y"}); !errors.Is(err, export.ErrForbidden) {
		t.Fatalf("auditor added a camera: %v", err)
	}
	lat, long := 37.5, 127.03
	c.Latitude, c.Longitude, c.Kind = &lat, &long, "ptz"
	if c, err = fx.wf.EditCamera(ctx, operator, *c); err != nil || c.Kind != "ptz" || *c.Latitude != lat {
		t.Fatalf("edit: %+v, %v", c, err)
	}
	if err := fx.wf.RetireCamera(ctx, admin, c.ID); err != nil {
		t.Fatal(err)
	}
	// A retired camera keeps its row and frees its name.
	if cs, _ := fx.wf.Cameras(ctx, false); len(cs) != 0 {
		t.Errorf("cameras in service after retiring: %d", len(cs))
	}
	if cs, _ := fx.wf.Cameras(ctx, true); len(cs) != 1 || cs[0].RetiredAt == nil {
		t.Errorf("all cameras: %+v", cs)
	}
	if _, err := fx.wf.AddCamera(ctx, operator, export.Camera{Name: "역삼역 4번 출구", Location: "new pole"}); err != nil {
		t.Fatalf("reusing a retired camera's name: %v", err)
	}
	if _, err := fx.log.Verify(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestFootageIngest(t *testing.T) {
	ctx := context.Background()
	fx := newWorkflow(t)
	cam := fx.camera(t)
	src := clip(t)
	f, err := fx.wf.ImportFile(ctx, operator, cam.ID, src)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := export.HashFile(src)
	if f.Frames != 20 || f.Width != 320 || f.Height != 240 || f.FPS != 10 || f.DurationS < 1.99 || f.DurationS > 2.01 ||
		f.Codec != "h264" || !strings.Contains(f.Container, "mp4") || f.SHA256 != strings.ToLower(hexOf(want)) {
		t.Fatalf("footage = %+v", f)
	}
	if fi, err := os.Stat(f.Path); err != nil || fi.Size() != f.Size {
		t.Fatalf("kept original: %v", err)
	}
	if err := export.VerifyOriginal(f); err != nil {
		t.Fatal(err)
	}

	// Not video, a truncated clip, an empty file: refused, nothing kept.
	dir := t.TempDir()
	notes := filepath.Join(dir, "notes.mp4")
	os.WriteFile(notes, []byte("this is not a video\n"), 0o600)
	whole, _ := os.ReadFile(src)
	cut := filepath.Join(dir, "cut.mp4")
	os.WriteFile(cut, whole[:len(whole)/3], 0o600)
	empty := filepath.Join(dir, "empty.mp4")
	os.WriteFile(empty, nil, 0o600)
	for _, bad := range []string{notes, cut, empty} {
		if _, err := fx.wf.ImportFile(ctx, operator, cam.ID, bad); err == nil {
			t.Errorf("%s ingested", filepath.Base(bad))
		}
	}
	entries, _ := os.ReadDir(filepath.Dir(f.Path))
	if len(entries) != 1 {
		t.Errorf("footage directory holds %d files after refusals, want 1", len(entries))
	}
	if all, _ := fx.wf.FootageOf(ctx, 0); len(all) != 1 {
		t.Errorf("%d footage rows after refusals", len(all))
	}
	// Approvers decide; they do not ingest.
	if _, err := fx.wf.ImportFile(ctx, approver, cam.ID, src); !errors.Is(err, export.ErrForbidden) {
		t.Errorf("approver ingested: %v", err)
	}
	// An original changed on disk is not exported.
	os.WriteFile(f.Path, append(whole, 0), 0o600)
	if err := export.VerifyOriginal(f); err == nil || !strings.Contains(err.Error(), "changed on disk") {
		t.Errorf("tampered original: %v", err)
	}
}

func TestFootageRetention(t *testing.T) {
	ctx := context.Background()
	fx := newWorkflow(t)
	held, free := fx.footage(t), fx.footage(t)
	if _, err := fx.wf.File(ctx, operator, request(held)); err != nil {
		t.Fatal(err)
	}
	// Before the end nothing goes; after it, only the footage no open export needs.
	if n, err := fx.wf.ExpireFootage(ctx, time.Now()); err != nil || n != 0 {
		t.Fatalf("expired early: %d, %v", n, err)
	}
	n, err := fx.wf.ExpireFootage(ctx, time.Now().Add(31*24*time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("expired %d, %v; want 1", n, err)
	}
	if _, err := os.Stat(free.Path); !os.IsNotExist(err) {
		t.Errorf("expired original still on disk: %v", err)
	}
	if _, err := os.Stat(held.Path); err != nil {
		t.Errorf("held original deleted: %v", err)
	}
	f, _ := fx.wf.OneFootage(ctx, free.ID)
	if f.DeletedAt == nil {
		t.Error("deletion not recorded")
	}
	if _, err := fx.wf.File(ctx, operator, request(f)); err == nil {
		t.Error("a request for deleted footage was filed")
	}
}

func TestRequestValidationNamesEachField(t *testing.T) {
	ctx := context.Background()
	fx := newWorkflow(t)
	f := fx.footage(t)
	r := request(f)
	r.ReasonCode, r.Detail, r.ViewingDays, r.DocumentNo = "curiosity", "", 45, ""
	r.From, r.To = "0:01.5", "0:00.5"
	r.NoMask, r.Justification = true, "short"
	_, err := fx.wf.File(ctx, operator, r)
	var fes export.FieldErrors
	if !errors.As(err, &fes) {
		t.Fatalf("err = %v", err)
	}
	for _, field := range []string{"reason", "detail", "viewing_days", "document_no", "to", "justification"} {
		if fes.Field(field) == nil {
			t.Errorf("no error for %s in %v", field, err)
		}
	}
	if en := fes.Field("viewing_days").Message("en"); en != "Viewing period: must be one of: 7, 15, 30, 60, 90" {
		t.Errorf("en message %q", en)
	}
	r = request(f)
	r.To = "00:00:09"
	if _, err := fx.wf.File(ctx, operator, r); err == nil || !strings.Contains(err.Error(), "within the footage") {
		t.Errorf("a cut past the end: %v", err)
	}
	r.From, r.To = "0.5", "1:00.5"
	if _, err := fx.wf.File(ctx, operator, r); err == nil {
		t.Error("1:00.5 accepted in a 2 s clip")
	}
	r.From, r.To = "0.5", "1.5"
	id, err := fx.wf.File(ctx, operator, r)
	if err != nil {
		t.Fatal(err)
	}
	e, _ := fx.wf.Show(ctx, id)
	if e.State != export.Requested || e.FromS != 0.5 || e.ToS == nil || *e.ToS != 1.5 || !e.Masked || e.Delivery != "online" {
		t.Errorf("export = %+v", e)
	}
}

func TestSeparationOfDuties(t *testing.T) {
	ctx := context.Background()
	fx := newWorkflow(t)
	f := fx.footage(t)
	id, err := fx.wf.File(ctx, operator, request(f))
	if err != nil {
		t.Fatal(err)
	}
	// Only an operator files; an approver files nothing.
	if _, err := fx.wf.File(ctx, approver, request(f)); !errors.Is(err, export.ErrForbidden) {
		t.Errorf("approver filed: %v", err)
	}
	// Nobody without the approver role decides, and a requester who is
	// also an approver may not decide their own, through either door.
	for _, a := range []export.Actor{operator, operator2, auditor, admin} {
		if err := fx.wf.Approve(ctx, a, id, ""); !errors.Is(err, export.ErrForbidden) {
			t.Errorf("%s (%s) approved: %v", a.User, a.Role, err)
		}
	}
	self := export.Actor{User: "operator.kim", Role: "approver", Via: "cli"}
	if err := fx.wf.Approve(ctx, self, id, ""); !errors.Is(err, export.ErrForbidden) {
		t.Errorf("the requester approved their own request: %v", err)
	}
	if err := fx.wf.Reject(ctx, approver, id, ""); err == nil {
		t.Error("a rejection without a reason")
	}
	if len(fx.started) != 0 {
		t.Fatalf("pipeline started for %v before approval", fx.started)
	}
	if err := fx.wf.Approve(ctx, approver, id, "공문 확인"); err != nil {
		t.Fatal(err)
	}
	if len(fx.started) != 1 || fx.started[0] != id {
		t.Errorf("pipeline started for %v", fx.started)
	}
	e, _ := fx.wf.Show(ctx, id)
	if e.State != export.Approved || e.DecidedBy != "approver.park" || len(e.Stages) != 4 || e.Stages[0].State != "pending" {
		t.Fatalf("after approval: %+v", e)
	}
	if len(e.History) != 2 || e.History[1].Actor != "approver.park" || e.History[1].Reason != "공문 확인" {
		t.Errorf("history %+v", e.History)
	}
	// Decided once.
	if err := fx.wf.Reject(ctx, export.Actor{User: "approver.two", Role: "approver"}, id, "late"); !errors.Is(err, export.ErrState) {
		t.Errorf("second decision: %v", err)
	}
	// Each refusal is in the audit chain as denied, under cli: for the CLI.
	var denied, cliDenied int
	fx.pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE outcome = 'denied'), count(*) FILTER (WHERE outcome = 'denied' AND actor = 'cli:operator.kim')
		FROM audit_log`).Scan(&denied, &cliDenied)
	if denied != 6 || cliDenied != 1 {
		t.Errorf("denied entries %d (cli %d), want 6 (1)", denied, cliDenied)
	}
	if _, err := fx.log.Verify(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestRejectAndCancel(t *testing.T) {
	ctx := context.Background()
	fx := newWorkflow(t)
	f := fx.footage(t)
	a, _ := fx.wf.File(ctx, operator, request(f))
	b, _ := fx.wf.File(ctx, operator, request(f))
	if err := fx.wf.Reject(ctx, approver, a, "공문 번호 불일치"); err != nil {
		t.Fatal(err)
	}
	if err := fx.wf.Approve(ctx, approver, a, ""); !errors.Is(err, export.ErrState) {
		t.Errorf("a rejected export approved: %v", err)
	}
	// Another operator may not withdraw a colleague's request; its requester may.
	if err := fx.wf.Cancel(ctx, operator2, b, "mine now"); !errors.Is(err, export.ErrForbidden) {
		t.Errorf("cancel by another operator: %v", err)
	}
	if err := fx.wf.Cancel(ctx, operator, b, "요청 철회"); err != nil {
		t.Fatal(err)
	}
	list, _ := fx.wf.List(ctx, "", 10)
	if len(list) != 2 || list[0].State != export.Cancelled || list[1].State != export.Rejected || list[1].DecisionReason != "공문 번호 불일치" {
		t.Errorf("list: %+v %+v", list[0], list[1])
	}
	if len(fx.started) != 0 {
		t.Errorf("pipeline started for %v", fx.started)
	}
}

func hexOf(b [32]byte) string { return fmt.Sprintf("%x", b) }

// A viewing period past 30 days needs an admin's approval, by an admin who
// did not file it, before the approver's decision can grant it.
func TestLongViewingNeedsAnAdmin(t *testing.T) {
	ctx := context.Background()
	fx := newWorkflow(t)
	r := request(fx.footage(t))
	r.ViewingDays = 45
	if _, err := fx.wf.File(ctx, operator, r); err == nil {
		t.Error("a 45-day viewing period was filed")
	}
	r.ViewingDays = 90
	id, err := fx.wf.File(ctx, operator, r)
	if err != nil {
		t.Fatal(err)
	}
	if err := fx.wf.Approve(ctx, approver, id, ""); !errors.Is(err, export.ErrForbidden) {
		t.Errorf("approved 90 days without an admin: %v", err)
	}
	if err := fx.wf.ApproveViewing(ctx, approver, id, "수사 장기화"); !errors.Is(err, export.ErrForbidden) {
		t.Errorf("an approver approved the viewing period: %v", err)
	}
	if err := fx.wf.ApproveViewing(ctx, admin, id, ""); err == nil {
		t.Error("a viewing period approved without a reason")
	}
	if err := fx.wf.ApproveViewing(ctx, admin, id, "수사 장기화"); err != nil {
		t.Fatal(err)
	}
	if err := fx.wf.ApproveViewing(ctx, admin, id, "again"); !errors.Is(err, export.ErrState) {
		t.Errorf("approved twice: %v", err)
	}
	if err := fx.wf.Approve(ctx, approver, id, "공문 확인"); err != nil {
		t.Fatal(err)
	}
	e, _ := fx.wf.Show(ctx, id)
	if e.State != export.Approved || e.ViewingApprovedBy != "cli:chief" || e.ViewingReason != "수사 장기화" {
		t.Errorf("after both approvals: %s, %q, %q", e.State, e.ViewingApprovedBy, e.ViewingReason)
	}
	// An admin may not approve the long viewing of a request they filed.
	self := export.Actor{User: "chief", Role: "operator", Via: "cli"}
	mine, err := fx.wf.File(ctx, self, r)
	if err != nil {
		t.Fatal(err)
	}
	if err := fx.wf.ApproveViewing(ctx, admin, mine, "mine"); !errors.Is(err, export.ErrForbidden) {
		t.Errorf("an admin approved their own request's viewing period: %v", err)
	}
}

// A checked export is released only by an approver who did not file it,
// who confirms every suspect frame of its leak check; the release queues
// the seal.
func TestReleaseConfirmsEverySuspect(t *testing.T) {
	ctx := context.Background()
	fx := newWorkflow(t)
	id, err := fx.wf.File(ctx, operator, request(fx.footage(t)))
	if err != nil {
		t.Fatal(err)
	}
	if err := fx.wf.Release(ctx, approver, id, nil, ""); !errors.Is(err, export.ErrState) {
		t.Errorf("released a request: %v", err)
	}
	if err := fx.wf.Approve(ctx, approver, id, ""); err != nil {
		t.Fatal(err)
	}
	rep := &export.LeakReport{FramesChecked: 30, Width: 320, Height: 240, Suspects: []export.Suspect{
		{Frame: 4, Reason: "face_detected", X: 10, Y: 10, W: 20, H: 24}, {Frame: 9, Reason: "track_gap"}}}
	err = pgx.BeginFunc(ctx, fx.pool, func(tx pgx.Tx) error {
		for _, s := range [][2]string{{export.Approved, export.Transcoding}, {export.Transcoding, export.Rendering}, {export.Rendering, export.Checking}} {
			if err := fx.wf.Advance(ctx, tx, export.System, id, s[0], s[1], "test"); err != nil {
				return err
			}
		}
		return fx.wf.SetLeaks(ctx, tx, id, rep)
	})
	if err != nil {
		t.Fatal(err)
	}
	fx.started = nil
	self := export.Actor{User: "operator.kim", Role: "approver", Via: "cli"}
	for _, a := range []export.Actor{operator, admin, self} {
		if err := fx.wf.Release(ctx, a, id, []int{0, 1}, ""); !errors.Is(err, export.ErrForbidden) {
			t.Errorf("%s (%s) released: %v", a.User, a.Role, err)
		}
	}
	var fes export.FieldErrors
	if err := fx.wf.Release(ctx, approver, id, []int{1, 7}, ""); !errors.As(err, &fes) || fes.Field("suspects") == nil ||
		fes.Field("suspects").Message("en") != "Frames to check: 1 frames are not confirmed." {
		t.Fatalf("released with one suspect unconfirmed: %v", err)
	}
	e, _ := fx.wf.Show(ctx, id)
	if e.State != export.Checking || e.Leaks == nil || len(e.Leaks.Suspects) != 2 || e.Leaks.Suspects[0].W != 20 {
		t.Fatalf("before the release: %s, %+v", e.State, e.Leaks)
	}
	if err := fx.wf.Release(ctx, approver, id, []int{0, 1}, "두 프레임 확인"); err != nil {
		t.Fatal(err)
	}
	e, _ = fx.wf.Show(ctx, id)
	if e.State != export.Sealing || e.ReleasedBy != "approver.park" || len(fx.started) != 1 {
		t.Errorf("after the release: %s by %q, started %v", e.State, e.ReleasedBy, fx.started)
	}
	if last := e.History[len(e.History)-1]; !strings.Contains(last.Reason, "2 suspect frames confirmed; 두 프레임 확인") {
		t.Errorf("the release on record: %+v", last)
	}
}

// A checked export sent back to review waits, with its workspace, until it
// is rendered again: by an approver who did not file it, with a reason.
func TestSendBackAndRenderAgain(t *testing.T) {
	ctx := context.Background()
	fx := newWorkflow(t)
	id, err := fx.wf.File(ctx, operator, request(fx.footage(t)))
	if err != nil {
		t.Fatal(err)
	}
	if err := fx.wf.Approve(ctx, approver, id, ""); err != nil {
		t.Fatal(err)
	}
	err = pgx.BeginFunc(ctx, fx.pool, func(tx pgx.Tx) error {
		for _, s := range [][2]string{{export.Approved, export.Transcoding}, {export.Transcoding, export.Rendering}, {export.Rendering, export.Checking}} {
			if err := fx.wf.Advance(ctx, tx, export.System, id, s[0], s[1], "test"); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, `UPDATE export_stage SET state = 'done', attempts = 1 WHERE export_id = $1 AND stage IN ('transcode', 'render')`, id)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// The render's marked copy, as the pipeline records it.
	l, err := ledger.New(fx.pool, fx.log, 1)
	if err != nil {
		t.Fatal(err)
	}
	issued, err := l.Open(ctx, ledger.Request{Requester: "경위 김민수", Reason: "강남-2026-1123", IssuedBy: "system", SourceName: "cam12.mp4"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Issue(ctx, issued.Serial, [32]byte{1}, 20, 48); err != nil {
		t.Fatal(err)
	}
	if err := fx.wf.SetSerial(ctx, id, issued.Serial); err != nil {
		t.Fatal(err)
	}
	ledgerState := func() *ledger.Entry {
		t.Helper()
		p, _ := watermark.ParsePayload(issued.Payload)
		e, err := l.Lookup(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	const rid = "0123456789abcdef"
	open := func(*export.Export) (string, error) { return rid, nil }
	if err := fx.wf.SendBack(ctx, operator, id, "얼굴 노출", open); !errors.Is(err, export.ErrForbidden) {
		t.Errorf("an operator sent it back: %v", err)
	}
	if err := fx.wf.SendBack(ctx, approver, id, " ", open); err == nil {
		t.Error("sent back without a reason")
	}
	if err := fx.wf.Rerender(ctx, operator, id); !errors.Is(err, export.ErrState) {
		t.Errorf("rendered again before it was sent back: %v", err)
	}
	if err := fx.wf.SendBack(ctx, approver, id, "얼굴 노출", func(*export.Export) (string, error) { return "", errors.New("disk full") }); err == nil {
		t.Error("sent back though its workspace could not be made")
	}
	if e, _ := fx.wf.Show(ctx, id); e.State != export.Checking || ledgerState().State != ledger.Issued {
		t.Fatalf("a failed send-back left the export %s, its copy %s", e.State, ledgerState().State)
	}
	if err := fx.wf.SendBack(ctx, approver, id, "얼굴 노출", open); err != nil {
		t.Fatal(err)
	}
	e, _ := fx.wf.Show(ctx, id)
	if e.State != export.Reviewing || e.ReviewID != rid {
		t.Fatalf("sent back: %s, review %q", e.State, e.ReviewID)
	}
	// The discarded copy's serial stays taken, marked as never released.
	if le := ledgerState(); le.State != ledger.Withdrawn || le.WithdrawnBy != approver.Audited() || le.Withdrawn != "얼굴 노출 (export "+fmt.Sprint(id)+")" ||
		le.WithdrawnAt == nil || le.OutputSHA256 == "" {
		t.Errorf("the sent-back copy's ledger row: %+v", le)
	}
	fx.started = nil
	if err := fx.wf.Rerender(ctx, operator, id); err != nil {
		t.Fatal(err)
	}
	e, _ = fx.wf.Show(ctx, id)
	if e.State != export.Rendering || e.Stages[1].State != "pending" || e.Stages[0].State != "done" || len(fx.started) != 1 {
		t.Errorf("rendered again: %s, stages %+v, started %v", e.State, e.Stages, fx.started)
	}
}
