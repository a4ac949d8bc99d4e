package pipeline_test

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"sealgate/inner/child"
	"sealgate/inner/export"
	"sealgate/inner/ledger"
	"sealgate/inner/mask"
	"sealgate/inner/outbox"
	"sealgate/inner/pipeline"
	"sealgate/inner/requester/requestertest"
	"sealgate/inner/store"
	"sealgate/inner/video"
	"sealgate/inner/video/videotest"
	"sealgate/inner/watermark"
	"sealgate/shared/audit"
	"sealgate/shared/keys"
	"sealgate/shared/pgdb/pgtest"
	"sealgate/shared/seal"
)

// The test binary plays sealgate-inner's render child, or the child that
// becomes ffmpeg, when the pipeline under test starts one.
func TestMain(m *testing.M) {
	if os.Getenv(child.Env) != "" {
		child.MustEnter()
		var err error
		switch {
		case os.Args[1] == child.ExecCommand:
			err = child.ExecMain(os.Args[2:])
		case os.Args[1] == export.ProbeCommand && len(os.Args) == 4:
			err = export.ProbeChild(context.Background(), os.Args[3], os.Stdout)
		default:
			err = pipeline.RenderChild(context.Background(), os.Stdin, os.Stdout, os.Stderr)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "sealgate-inner:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(pgtest.Main(m))
}

var (
	operator = export.Actor{User: "operator.kim", Role: "operator", Via: "console"}
	approver = export.Actor{User: "approver.park", Role: "approver", Via: "cli"}
)

// site is one inner appliance's database, keys and workflow; nodes are
// pipelines on it.
type site struct {
	pool    *pgxpool.Pool
	wf      *export.Workflow
	issuer  *export.Issuer
	outbox  *outbox.Outbox
	inner   *keys.Inner
	outer   *keys.Outer
	license string // the outer's license.pub
	dir     string
}

func newSite(t testing.TB) *site {
	t.Helper()
	s := &site{pool: pgtest.NewPool(t, store.Migrations()), dir: t.TempDir()}
	if err := keys.InitInner(filepath.Join(s.dir, "keys")); err != nil {
		t.Fatal(err)
	}
	if err := keys.InitOuter(filepath.Join(s.dir, "outer")); err != nil {
		t.Fatal(err)
	}
	var err error
	if s.inner, err = keys.LoadInner(filepath.Join(s.dir, "keys")); err != nil {
		t.Fatal(err)
	}
	if s.outer, err = keys.LoadOuter(filepath.Join(s.dir, "outer")); err != nil {
		t.Fatal(err)
	}
	s.license = filepath.Join(s.dir, "outer", "license.pub")
	log := audit.New(s.pool, s.inner.Audit)
	start, err := pipeline.Starter(s.pool)
	if err != nil {
		t.Fatal(err)
	}
	if s.wf, err = export.New(s.pool, log, export.WorkflowConfig{FootageDir: filepath.Join(s.dir, "footage"), Retention: 24 * time.Hour, Start: start,
		PII: requestertest.PII(t)}); err != nil {
		t.Fatal(err)
	}
	l, err := ledger.New(s.pool, log, 9)
	if err != nil {
		t.Fatal(err)
	}
	key, err := watermark.NewKey(s.inner.Watermark)
	if err != nil {
		t.Fatal(err)
	}
	s.issuer = &export.Issuer{Ledger: l, Key: key}
	if s.outbox, err = outbox.New(s.pool, filepath.Join(s.dir, "outbox"), log); err != nil {
		t.Fatal(err)
	}
	return s
}

// logs records which node finished which stage.
type logs struct {
	mu   sync.Mutex
	done map[string][]string // node → "export/stage"
}

func (l *logs) handler(node string) slog.Handler {
	return slog.NewJSONHandler(writerFunc(func(b []byte) (int, error) {
		var rec struct {
			Msg, Stage string
			Export     int64
		}
		json.Unmarshal(b, &rec)
		if rec.Msg == "stage done" {
			l.mu.Lock()
			l.done[node] = append(l.done[node], fmt.Sprintf("%d/%s", rec.Export, rec.Stage))
			l.mu.Unlock()
		}
		return len(b), nil
	}), nil)
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }

// node starts a pipeline on the site until the returned stop is called.
func (s *site) node(t testing.TB, name string, l *logs, detect []string) (stop func()) {
	t.Helper()
	lic, err := keys.ReadLicensePub(s.license)
	if err != nil {
		t.Fatal(err)
	}
	p, err := pipeline.New(pipeline.Config{Workflow: s.wf, Issuer: s.issuer, WatermarkSecret: s.inner.Watermark, Outbox: s.outbox, Signer: s.inner.Signing, License: lic,
		WorkDir: filepath.Join(s.dir, "exports"), Workers: 1, ModelsDir: videotest.Dir(t), Detect: detect, Log: slog.New(l.handler(name))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("node %s: %v", name, err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// approved files and approves an export of a fresh clip.
func (s *site) approved(t testing.TB, r export.Request, clipArgs ...string) int64 {
	t.Helper()
	src := filepath.Join(t.TempDir(), "clip.mp4")
	if len(clipArgs) == 0 {
		clipArgs = []string{"-f", "lavfi", "-i", "testsrc2=s=320x240:r=10:d=2"}
	}
	videotest.FFmpeg(t, append(clipArgs, "-c:v", "libx264", "-pix_fmt", "yuv420p", src)...)
	return s.approvedClip(t, r, src)
}

// approvedClip files and approves an export of the clip at src.
func (s *site) approvedClip(t testing.TB, r export.Request, src string) int64 {
	t.Helper()
	ctx := context.Background()
	cams, _ := s.wf.Cameras(ctx, false)
	var cam *export.Camera
	if len(cams) == 0 {
		var err error
		if cam, err = s.wf.AddCamera(ctx, operator, export.Camera{Name: "CAM-12", Location: "역삼역 4번 출구"}); err != nil {
			t.Fatal(err)
		}
	} else {
		cam = cams[0]
	}
	f, err := s.wf.ImportFile(ctx, operator, cam.ID, src)
	if err != nil {
		t.Fatal(err)
	}
	r.FootageID = f.ID
	id, err := s.wf.File(ctx, operator, r)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.wf.Approve(ctx, approver, id, "공문 확인"); err != nil {
		t.Fatal(err)
	}
	return id
}

func request() export.Request {
	return export.Request{ReasonCode: "assault", Detail: "폭행 사건", RequesterName: "경위 김민수", Agency: "강남경찰서",
		DocumentNo: "강남-2026-77", Recipient: "officer.kim", ViewingDays: 7}
}

// wait polls the export until it reaches one of states (or fails the
// test). An export waiting for release after its leak check is released
// as an approver would, every suspect frame confirmed, unless checking is
// what is waited for.
func (s *site) wait(t testing.TB, id int64, d time.Duration, states ...string) *export.Export {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		e, err := s.wf.Show(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if e.State == export.Checking && !slices.Contains(states, export.Checking) {
			if err := s.wf.Release(context.Background(), approver, id, suspects(e), ""); err != nil {
				t.Fatal(err)
			}
			continue
		}
		for _, st := range states {
			if e.State == st {
				return e
			}
		}
		if e.State == export.Failed || time.Now().After(deadline) {
			t.Fatalf("export %d is %s (error %q), waiting for %v; stages %+v", id, e.State, e.Error, states, e.Stages)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestOnlineExportRunsToTheOutbox(t *testing.T) {
	s := newSite(t)
	l := &logs{done: map[string][]string{}}
	s.node(t, "a", l, nil)
	r := request()
	r.From, r.To = "0.5", "1.5"
	id := s.approved(t, r)
	e := s.wait(t, id, 40*time.Second, export.Queued, "transferring")
	want := []string{"transcode:done", "render:done", "seal:done", "outbox:done"}
	for i, st := range e.Stages {
		if got := st.Stage + ":" + st.State; got != want[i] || st.Attempts != 1 {
			t.Errorf("stage %d = %s after %d attempts, want %s after 1", i, got, st.Attempts, want[i])
		}
	}
	if e.PackageSHA256 == "" || e.OutboxID == nil || e.Serial == nil || e.MaskPlanSHA256 == "" {
		t.Fatalf("export = %+v", e)
	}
	// The ledger has what the render masked, counted by kind (the test
	// pattern's moving shapes are taken for some), none by hand; an
	// unmasked export has nothing counted.
	var faces, plates, people, manual *int
	if err := s.pool.QueryRow(context.Background(), `SELECT masked_faces, masked_plates, masked_people, manual_tracks FROM export WHERE id = $1`,
		id).Scan(&faces, &plates, &people, &manual); err != nil || faces == nil || plates == nil || people == nil || manual == nil || *faces < 0 || *plates < 0 || *people < 0 || *manual != 0 {
		t.Fatalf("masking counts %v %v %v %v: %v", deref(faces), deref(plates), deref(people), deref(manual), err)
	}
	// The copy's ledger row and the audit chain, which are not encrypted,
	// name the export and the agency, never the officer.
	var copyFor, audited string
	if err := s.pool.QueryRow(context.Background(), `SELECT l.requester, (SELECT string_agg(detail, ' | ') FROM audit_log)
		FROM ledger l JOIN export e ON e.serial = l.serial WHERE e.id = $1`, id).Scan(&copyFor, &audited); err != nil {
		t.Fatal(err)
	}
	if copyFor != e.Code+", 강남경찰서" || strings.Contains(audited, "김민수") {
		t.Errorf("the copy's ledger row names %q; the audit chain names the officer: %v", copyFor, strings.Contains(audited, "김민수"))
	}
	// The outbox holds exactly the package the export names, signed by
	// this appliance, with the manifest's fields, and openable by the outer.
	entries, _ := s.outbox.List(context.Background())
	if len(entries) != 1 || entries[0].SHA256 != e.PackageSHA256 {
		t.Fatalf("outbox %+v", entries)
	}
	pkgPath := filepath.Join(s.dir, "outbox", e.PackageSHA256+".sgpkg")
	f, pkg, err := seal.OpenFile(pkgPath, s.inner.Signing.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m := pkg.Manifest
	foot, _ := s.wf.OneFootage(context.Background(), e.FootageID)
	if m.ExportCode != e.Code || m.ReasonCode != "assault" || m.Recipient.Name != "officer.kim" || m.OriginalSHA256 != foot.SHA256 ||
		m.MaskPlanSHA256 != e.MaskPlanSHA256 || m.Camera.Name != "CAM-12" || m.Watermark != watermark.ExportPayload(9, uint64(*e.Serial)).String() ||
		m.ViewUntil.Sub(m.ViewFrom) != 7*24*time.Hour {
		t.Errorf("manifest %+v", m)
	}
	k, err := pkg.UnwrapLicense(s.outer.License)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "delivered.mp4")
	if err := pkg.DecryptFile(f, k, out); err != nil {
		t.Fatal(err)
	}
	// The cut is 1 s of a 10 fps clip, marked with the ledger's serial.
	info, err := video.Probe(context.Background(), out)
	if err != nil || info.Frames() != 10 {
		t.Errorf("delivered %v frames (%v), want 10", info, err)
	}
	res, err := watermark.Trace(context.Background(), out, s.issuer.Key)
	if err != nil || !res.Found || res.Payload != m.Watermark {
		t.Errorf("trace of the delivered copy: %+v, %v", res, err)
	}
	// Nothing unsealed waits in the work directory.
	left, _ := filepath.Glob(filepath.Join(s.dir, "exports", fmt.Sprint(id), "*"))
	if len(left) != 0 {
		t.Errorf("work directory keeps %v", left)
	}
}

func TestOfflineExportWaitsWithItsPassword(t *testing.T) {
	s := newSite(t)
	s.node(t, "a", &logs{done: map[string][]string{}}, []string{})
	r := request()
	r.Offline, r.NoMask, r.Justification = true, true, "the requester is the only person in the frame"
	id := s.approved(t, r)
	e := s.wait(t, id, 40*time.Second, export.Ready)
	if e.Stages[0].State != "skipped" || e.Stages[3].State != "skipped" || e.OutboxID != nil {
		t.Errorf("stages %+v, outbox %v", e.Stages, e.OutboxID)
	}
	pwPath := pipeline.PasswordPath(filepath.Join(s.dir, "exports"), id)
	fi, err := os.Stat(pwPath)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("password file: %v %v", fi, err)
	}
	pw, _ := os.ReadFile(pwPath)
	f, pkg, err := seal.OpenFile(e.PackagePath, s.inner.Signing.Public().(ed25519.PublicKey))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := pkg.UnwrapPassword(pw); err != nil {
		t.Fatalf("the hand-over password does not open the package: %v", err)
	}
	if pkg.Manifest.UnmaskedReason != r.Justification || pkg.Manifest.MaskPlanSHA256 == "" {
		t.Errorf("manifest %+v", pkg.Manifest)
	}
	var faces *int
	if err := s.pool.QueryRow(context.Background(), `SELECT masked_faces FROM export WHERE id = $1`, id).Scan(&faces); err != nil || faces != nil {
		t.Errorf("an unmasked export's ledger counts faces: %v %v", faces, err)
	}
	if _, err := pkg.UnwrapPassword([]byte("wrong password 123")); err == nil {
		t.Error("a wrong password opened the package")
	}
}

func TestOnlineExportWithoutALicenseFailsWithTheReason(t *testing.T) {
	s := newSite(t)
	s.license = filepath.Join(s.dir, "no-such.pub")
	p, err := pipeline.New(pipeline.Config{Workflow: s.wf, Issuer: s.issuer, WatermarkSecret: s.inner.Watermark, Outbox: s.outbox, Signer: s.inner.Signing,
		WorkDir: filepath.Join(s.dir, "exports"), Workers: 1, Detect: []string{}, ModelsDir: videotest.Dir(t), Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	defer func() { cancel(); <-done }()
	id := s.approved(t, request())
	e := s.wait(t, id, time.Minute, export.Failed)
	if !strings.Contains(e.Error, "transfer.outer_license") || e.Stages[2].State != "failed" || e.Stages[2].Attempts != 1 {
		t.Errorf("failed export: %q, stages %+v", e.Error, e.Stages)
	}
}

// suspects are the numbers of every suspect frame of e's leak check.
func suspects(e *export.Export) []int {
	var all []int
	if e.Leaks != nil {
		for i := range e.Leaks.Suspects {
			all = append(all, i)
		}
	}
	return all
}

// Two nodes on one database share the queue: the work splits, and no
// stage runs twice.
func TestTwoNodesShareTheQueue(t *testing.T) {
	s := newSite(t)
	l := &logs{done: map[string][]string{}}
	s.node(t, "a", l, []string{})
	s.node(t, "b", l, []string{})
	var ids []int64
	for range 6 {
		ids = append(ids, s.approved(t, request()))
	}
	for _, id := range ids {
		e := s.wait(t, id, 90*time.Second, export.Queued, "transferring")
		for _, st := range e.Stages {
			if st.Attempts > 1 {
				t.Errorf("export %d: %s ran %d times", id, st.Stage, st.Attempts)
			}
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	seen := map[string]string{}
	for node, done := range l.done {
		for _, d := range done {
			if other, ok := seen[d]; ok {
				t.Errorf("%s done by %s and %s", d, other, node)
			}
			seen[d] = node
		}
	}
	if len(seen) != 6*4 { // a skipped transcode is a stage its node finished too
		t.Errorf("%d stages done, want %d: %v", len(seen), 6*4, l.done)
	}
	if len(l.done["a"]) == 0 || len(l.done["b"]) == 0 {
		t.Errorf("the work did not split: %v", l.done)
	}
}

// A node stopped in the middle of a render gives the stage back; the next
// node renders it again, and the export completes once: one package, one
// outbox row, the interrupted serial closed as failed in the ledger.
func TestRenderCutShortCompletesOnce(t *testing.T) {
	s := newSite(t)
	l := &logs{done: map[string][]string{}}
	stopA := s.node(t, "a", l, []string{mask.DetectFaces})
	id := s.approved(t, request(), "-f", "lavfi", "-i", "testsrc2=s=640x360:r=25:d=12")
	deadline := time.Now().Add(time.Minute)
	for {
		e, _ := s.wf.Show(context.Background(), id)
		if e.State == export.Rendering && e.Stages[1].Progress > 0 || e.State == export.Rendering && e.Serial != nil {
			break
		}
		if time.Now().After(deadline) || e.State == export.Failed {
			t.Fatalf("render never started: %+v", e)
		}
		time.Sleep(20 * time.Millisecond)
	}
	stopA()
	e, _ := s.wf.Show(context.Background(), id)
	if e.State != export.Rendering || e.Stages[1].State != "pending" {
		t.Fatalf("after the stop: %s, render %+v", e.State, e.Stages[1])
	}
	s.node(t, "b", l, []string{mask.DetectFaces})
	e = s.wait(t, id, 90*time.Second, export.Queued, "transferring")
	if e.Stages[1].Attempts != 2 || e.Stages[2].Attempts != 1 || e.Stages[3].Attempts != 1 {
		t.Errorf("stages %+v", e.Stages)
	}
	entries, _ := s.outbox.List(context.Background())
	if len(entries) != 1 {
		t.Errorf("%d outbox rows", len(entries))
	}
	rows, _ := s.issuer.Ledger.List(context.Background(), 10)
	states := map[string]int{}
	for _, r := range rows {
		states[r.State]++
	}
	if states["issued"] != 1 || states["failed"] != 1 || len(rows) != 2 {
		t.Errorf("ledger states %v", states)
	}
}

func deref(n *int) any {
	if n == nil {
		return nil
	}
	return *n
}
