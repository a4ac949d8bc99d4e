package appliance_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"sealgate/appliance/daemon"
	"sealgate/appliance/daemon/daemontest"
	"sealgate/appliance/innerd"
	"sealgate/appliance/opener"
	"sealgate/appliance/outerd"
	"sealgate/inner/video/videotest"
	"sealgate/shared/account"
	"sealgate/shared/config"
	"sealgate/shared/keys"
	"sealgate/shared/pgdb/pgtest"
	"sealgate/transfer"
)

// exportSite is a paired inner and outer whose inner seals online exports
// to the outer's license key, driven through the CLI's workflow commands.
type exportSite struct {
	dir, innerConf, outerConf string
	innerEnv, outerEnv        []string
}

func newExportSite(t *testing.T) *exportSite {
	t.Helper()
	t.Setenv("SEALGATE_MODELS", videotest.Dir(t)) // the pipeline's detectors
	s := &exportSite{dir: daemontest.DataDir(t)}
	if err := keys.InitInner(filepath.Join(s.dir, "inner-keys")); err != nil {
		t.Fatal(err)
	}
	if err := keys.InitOuter(filepath.Join(s.dir, "outer-keys")); err != nil {
		t.Fatal(err)
	}
	ik, _ := keys.LoadInner(filepath.Join(s.dir, "inner-keys"))
	ok, _ := keys.LoadOuter(filepath.Join(s.dir, "outer-keys"))
	// Delivered packages asked about every 10 s: the officer's use and the
	// destruction receipt reach the ledger within the test.
	s.innerConf, s.outerConf = pairedConfigs(t, s.dir, ik, ok, "  outer_license: outer-keys/license.pub\n  status_every: 10s\n")
	s.innerEnv = []string{config.InnerEnvPrefix + "DATABASE_URL=" + pgtest.NewDatabase(t, nil)}
	s.outerEnv = []string{config.OuterEnvPrefix + "DATABASE_URL=" + pgtest.NewDatabase(t, nil)}
	return s
}

// inner runs a sealgate-inner command against the site and returns its
// stdout; the database may still be migrating when the daemon has just
// started, so a first failure is retried briefly.
func (s *exportSite) inner(t *testing.T, args ...string) string {
	t.Helper()
	args = append(args[:2:2], append([]string{"--config", s.innerConf}, args[2:]...)...)
	var out, errb bytes.Buffer
	for attempt := 0; ; attempt++ {
		out.Reset()
		errb.Reset()
		if innerd.Main(context.Background(), args, &out, &errb, s.innerEnv) == 0 {
			return out.String()
		}
		if attempt == 20 || !strings.Contains(errb.String(), "database") {
			t.Fatalf("sealgate-inner %v: %s", args, errb.String())
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// request registers people, a camera and a clip, files an export as an
// operator and approves it as an approver; it returns the export's id.
func (s *exportSite) request(t *testing.T, clipArgs ...string) string {
	t.Helper()
	pw := filepath.Join(s.dir, "pw.txt")
	os.WriteFile(pw, []byte("Hwangsa-Bridge 7 lanterns!\n"), 0o600)
	s.inner(t, "user", "add", "--username", "operator.kim", "--role", "operator", "--password-file", pw)
	s.inner(t, "user", "add", "--username", "approver.park", "--role", "approver", "--password-file", pw)
	var cam, foot struct{ ID int64 }
	json.Unmarshal([]byte(s.inner(t, "camera", "add", "--name", "CAM-12", "--location", "역삼역 4번 출구", "--json")), &cam)
	clip := filepath.Join(s.dir, "clip.mp4")
	videotest.FFmpeg(t, append(clipArgs, "-c:v", "libx264", "-pix_fmt", "yuv420p", clip)...)
	json.Unmarshal([]byte(s.inner(t, "footage", "import", "--camera", fmt.Sprint(cam.ID), "--file", clip, "--json")), &foot)
	var e struct{ ID int64 }
	json.Unmarshal([]byte(s.inner(t, "export", "request", "--as", "operator.kim", "--footage", fmt.Sprint(foot.ID), "--reason", "assault",
		"--detail", "폭행 사건", "--requester-name", "경위 김민수", "--agency", "강남경찰서", "--document-no", "강남-2026-77",
		"--recipient", "officer.kim", "--viewing-days", "7", "--json")), &e)
	id := fmt.Sprint(e.ID)
	s.inner(t, "export", "approve", "--as", "approver.park", id, "--reason", "공문 확인")
	return id
}

type shownExport struct {
	State         string
	Leaks         *struct{ Suspects []json.RawMessage }
	Error         string
	PackageSHA256 string `json:"package_sha256"`
	Receipt       string
	Stages        []struct {
		Stage, State string
		Progress     float64
		Attempts     int
	}
}

func (s *exportSite) show(t *testing.T, id string) shownExport {
	t.Helper()
	var e shownExport
	if err := json.Unmarshal([]byte(s.inner(t, "export", "show", id, "--json")), &e); err != nil {
		t.Fatal(err)
	}
	return e
}

// waitFor polls export id until ok says so, or fails after d. An export
// waiting for release after its leak check is released as an approver
// would, through the command, every suspect frame confirmed.
func (s *exportSite) waitFor(t *testing.T, id string, d time.Duration, ok func(shownExport) bool) shownExport {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		e := s.show(t, id)
		if ok(e) {
			return e
		}
		if e.State == "checking" {
			args := []string{"export", "release", "--as", "approver.park", id}
			if e.Leaks != nil && len(e.Leaks.Suspects) > 0 {
				all := make([]string, len(e.Leaks.Suspects))
				for i := range all {
					all[i] = fmt.Sprint(i)
				}
				args = append(args, "--confirm", strings.Join(all, ","))
			}
			s.inner(t, args...)
			continue
		}
		if e.State == "failed" || time.Now().After(deadline) {
			t.Fatalf("export %s: %+v", id, e)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func delivered(e shownExport) bool { return e.State == "delivered" }

// outer runs a sealgate-outer command against the site and returns its stdout.
func (s *exportSite) outer(t *testing.T, args ...string) string {
	t.Helper()
	args = append(args[:2:2], append([]string{"--config", s.outerConf}, args[2:]...)...)
	var out, errb bytes.Buffer
	if outerd.Main(context.Background(), args, &out, &errb, s.outerEnv) != 0 {
		t.Fatalf("sealgate-outer %v: %s", args, errb.String())
	}
	return out.String()
}

// outerHolds reports whether the outer's store lists the package.
func (s *exportSite) outerHolds(t *testing.T, sha string) bool {
	t.Helper()
	return strings.Contains(s.outer(t, "store", "list", "--json"), `"sha256":"`+sha+`"`)
}

// TestExportFromRequestToTheOuter: a request filed and approved through
// the commands is cut, masked, marked, sealed and queued by the daemon's
// pipeline, and the paired outer receives exactly that package.
func TestExportFromRequestToTheOuter(t *testing.T) {
	s := newExportSite(t)
	icfg, err := config.LoadInner(s.innerConf, s.innerEnv)
	if err != nil {
		t.Fatal(err)
	}
	ocfg, err := config.LoadOuter(s.outerConf, s.outerEnv)
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.DiscardHandler)
	outd := daemontest.Start(t, func(ctx context.Context, st func(daemon.Addrs)) error {
		return outerd.Serve(ctx, ocfg, io.Discard, quiet, st)
	})
	ind := daemontest.Start(t, func(ctx context.Context, st func(daemon.Addrs)) error {
		return innerd.Serve(ctx, icfg, io.Discard, quiet, st)
	})
	id := s.request(t, "-f", "lavfi", "-i", "testsrc2=s=640x360:r=10:d=3")
	e := s.waitFor(t, id, 2*time.Minute, delivered)
	if e.PackageSHA256 == "" || len(e.Stages) != 4 || len(e.Receipt) != 2*transfer.ReplySize {
		t.Fatalf("delivered export (with the outer's receipt): %+v", e)
	}
	if !s.outerHolds(t, e.PackageSHA256) {
		t.Errorf("the outer does not hold package %s", e.PackageSHA256)
	}
	if out := s.inner(t, "ledger", "list", "--json"); !strings.Contains(out, `"state":"issued"`) || !strings.Contains(out, "강남경찰서") || strings.Contains(out, "경위 김민수") {
		t.Errorf("ledger: %s", out)
	}
	officersUseReachesTheLedger(t, s, ind, outd, icfg, ocfg, id, e.PackageSHA256)
	anchorsExchanged(t, s)

	// Offline: the same footage, sealed under a password, handed over once.
	var off struct{ ID int64 }
	json.Unmarshal([]byte(s.inner(t, "export", "request", "--as", "operator.kim", "--footage", "1", "--reason", "theft", "--detail", "절도",
		"--requester-name", "경사 이수진", "--agency", "서초경찰서", "--document-no", "서초-2026-5", "--recipient", "officer.lee",
		"--viewing-days", "15", "--offline", "--json")), &off)
	oid := fmt.Sprint(off.ID)
	s.inner(t, "export", "approve", "--as", "approver.park", oid)
	s.waitFor(t, oid, 2*time.Minute, func(e shownExport) bool { return e.State == "ready" })
	usb := filepath.Join(s.dir, "usb", "EX.sgpkg")
	os.MkdirAll(filepath.Dir(usb), 0o700)
	var slip struct {
		Password      string
		PackageSHA256 string `json:"package_sha256"`
		Signer        string `json:"signer_key_id"`
	}
	if err := json.Unmarshal([]byte(s.inner(t, "export", "handover", "--as", "operator.kim", oid, "--out", usb, "--json")), &slip); err != nil || len(slip.Password) < 12 {
		t.Fatalf("hand-over slip %+v: %v", slip, err)
	}
	pw := filepath.Join(s.dir, "usb-password.txt")
	os.WriteFile(pw, []byte(slip.Password), 0o600)
	var out, errb bytes.Buffer
	if code := opener.Main(context.Background(), []string{"decrypt", "--password-file", pw, "--signer", slip.Signer, "--out", filepath.Join(s.dir, "opened.mp4"), usb}, &out, &errb); code != 0 {
		t.Fatalf("sealgate-open decrypt: %s", errb.String())
	}
	if e := s.show(t, oid); e.State != "delivered" {
		t.Errorf("after the hand-over the export is %s", e.State)
	}
	errb.Reset()
	if innerd.Main(context.Background(), []string{"export", "handover", "--config", s.innerConf, "--as", "operator.kim", oid, "--out", usb + "2"},
		io.Discard, &errb, s.innerEnv) == 0 || !strings.Contains(errb.String(), "not an offline export ready") {
		t.Errorf("a second hand-over: %s", errb.String())
	}
	handOverInTheConsole(t, s, ind, icfg)
	if out := s.inner(t, "audit", "verify", "--json"); !strings.Contains(out, `"intact":true`) {
		t.Errorf("audit: %s", out)
	}
}

// handOverInTheConsole: an offline export under the password its requester
// chose (a short one refused), handed over in the console over HTTP: the
// slip shows the password once, the package downloads once, resumed
// after a break, only by the person who handed it over, and opens.
func handOverInTheConsole(t *testing.T, s *exportSite, ind *daemontest.Daemon, icfg *config.Inner) {
	ctx := context.Background()
	const chosen = "Namsan tower 1975 lights"
	short, good := filepath.Join(s.dir, "short.txt"), filepath.Join(s.dir, "chosen.txt")
	os.WriteFile(short, []byte("too short\n"), 0o600)
	os.WriteFile(good, []byte(chosen+"\n"), 0o600)
	args := []string{"export", "request", "--config", s.innerConf, "--as", "operator.kim", "--footage", "1", "--reason", "theft", "--detail", "절도",
		"--requester-name", "경사 이수진", "--agency", "서초경찰서", "--document-no", "서초-2026-6", "--recipient", "officer.lee",
		"--viewing-days", "7", "--offline", "--json", "--password-file"}
	var errb bytes.Buffer
	if innerd.Main(ctx, append(args, short), io.Discard, &errb, s.innerEnv) == 0 || !strings.Contains(errb.String(), "at least 12 characters") {
		t.Errorf("a short chosen password: %s", errb.String())
	}
	var x struct{ ID int64 }
	json.Unmarshal([]byte(s.inner(t, append(args[:2:2], append(args[4:], good)...)...)), &x)
	id := fmt.Sprint(x.ID)
	s.inner(t, "export", "approve", "--as", "approver.park", id)
	sealed := s.waitFor(t, id, 2*time.Minute, func(e shownExport) bool { return e.State == "ready" })

	ik, err := keys.LoadInner(icfg.KeyDir)
	if err != nil {
		t.Fatal(err)
	}
	svc := daemontest.Accounts(t, icfg.Database.URL, innerd.Accounts, &ik.Secrets)
	client := func(name string) *daemontest.Client {
		u, err := svc.ByName(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		tok, err := svc.StartSession(ctx, u, account.StageOK, "test", "test")
		if err != nil {
			t.Fatal(err)
		}
		c := ind.Client(t)
		c.SetSession(tok)
		return c
	}
	op, ap := client("operator.kim"), client("approver.park")
	code, slip := op.Do(t, http.MethodPost, "/exports/"+id+"/handover", url.Values{}, true)
	if code != http.StatusOK || !strings.Contains(slip, chosen) || !strings.Contains(slip, sealed.PackageSHA256) {
		t.Fatalf("hand-over: %d %.300s", code, slip)
	}
	if code, _ := ap.Do(t, http.MethodPost, "/exports/"+id+"/handover", url.Values{}, true); code != http.StatusConflict {
		t.Errorf("a second hand-over: %d, want 409", code)
	}
	pkgURL := "/exports/" + id + "/package"
	if code, _ := ap.GetRange(t, pkgURL, ""); code != http.StatusNotFound {
		t.Errorf("someone else's download: %d, want 404", code)
	}
	code, head := op.GetRange(t, pkgURL, "bytes=0-99")
	if code != http.StatusPartialContent || len(head) != 100 {
		t.Fatalf("the download's first part: %d, %d bytes", code, len(head))
	}
	code, rest := op.GetRange(t, pkgURL, "bytes=100-")
	if code != http.StatusPartialContent {
		t.Fatalf("the download resumed: %d", code)
	}
	pkg := append(head, rest...)
	if sum := sha256.Sum256(pkg); hex.EncodeToString(sum[:]) != sealed.PackageSHA256 {
		t.Errorf("downloaded %x, sealed %s", sum, sealed.PackageSHA256)
	}
	if code, _ := op.GetRange(t, pkgURL, ""); code != http.StatusNotFound {
		t.Errorf("a second download: %d, want 404", code)
	}
	file, pw := filepath.Join(s.dir, "console.sgpkg"), filepath.Join(s.dir, "console-password.txt")
	os.WriteFile(file, pkg, 0o600)
	os.WriteFile(pw, []byte(chosen), 0o600)
	signer := regexp.MustCompile(`id="slip-signer">(sha256:[0-9a-f]{64})<`).FindStringSubmatch(slip)
	if signer == nil {
		t.Fatal("the slip names no signer")
	}
	if code := opener.Main(ctx, []string{"decrypt", "--password-file", pw, "--signer", signer[1], "--out", filepath.Join(s.dir, "console.mp4"), file}, io.Discard, &errb); code != 0 {
		t.Fatalf("sealgate-open decrypt with the chosen password: %s", errb.String())
	}
	if e := s.show(t, id); e.State != "delivered" {
		t.Errorf("after the console's hand-over the export is %s", e.State)
	}
	watchOriginal(t, s, op)
}

// watchOriginal: an original streams only after its viewer has said why,
// on record (trust rule 5).
func watchOriginal(t *testing.T, s *exportSite, op *daemontest.Client) {
	if code, _ := op.GetRange(t, "/footage/1/original", ""); code != http.StatusNotFound {
		t.Errorf("an original before its view is on record: %d, want 404", code)
	}
	if code, page := op.Do(t, http.MethodPost, "/footage/1/view", url.Values{"purpose": {" "}}, true); code != http.StatusUnprocessableEntity ||
		!strings.Contains(page, `data-field="purpose"`) {
		t.Errorf("a view without a purpose: %d", code)
	}
	if code, _ := op.Do(t, http.MethodPost, "/footage/1/view", url.Values{"purpose": {"요청 구간 확인"}}, true); code != http.StatusSeeOther {
		t.Fatalf("a view with its purpose: %d", code)
	}
	if code, page := op.Do(t, http.MethodGet, "/footage/1", nil, false); code != http.StatusOK || !strings.Contains(page, `id="player"`) {
		t.Errorf("the original's page after the view: %d", code)
	}
	code, video := op.GetRange(t, "/footage/1/original", "")
	var listed struct{ Footage []struct{ SHA256 string } }
	json.Unmarshal([]byte(s.inner(t, "footage", "list", "--json")), &listed)
	if sum := sha256.Sum256(video); code != http.StatusOK || len(listed.Footage) == 0 || hex.EncodeToString(sum[:]) != listed.Footage[0].SHA256 {
		t.Errorf("the original streamed: %d, %d bytes, sha256 %x; listed %+v", code, len(video), sum, listed)
	}
	pool, err := pgxpool.New(context.Background(), strings.TrimPrefix(s.innerEnv[0], config.InnerEnvPrefix+"DATABASE_URL="))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	var detail string
	if err := pool.QueryRow(context.Background(), `SELECT detail FROM audit_log WHERE action = 'footage.view' AND actor = 'operator.kim'`).Scan(&detail); err != nil ||
		!strings.Contains(detail, "요청 구간 확인") {
		t.Errorf("the view on record: %q, %v", detail, err)
	}
}

// TestExportSurvivesSIGKILLDuringRender: the inner daemon killed while it
// renders, and started again, completes the export once: one package
// delivered, the render run twice, every other stage once.
func TestExportSurvivesSIGKILLDuringRender(t *testing.T) {
	s := newExportSite(t)
	innerBin, outerBin := buildDaemon(t, s.dir, "sealgate-inner"), buildDaemon(t, s.dir, "sealgate-outer")
	logf, err := os.Create(filepath.Join(s.dir, "daemons.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	env := append([]string{"SEALGATE_MODELS=" + os.Getenv("SEALGATE_MODELS")}, s.innerEnv...)
	inner := &proc{t: t, argv: []string{innerBin, "serve", "--config", s.innerConf}, env: env, log: logf}
	outer := &proc{t: t, argv: []string{outerBin, "serve", "--config", s.outerConf}, env: s.outerEnv, log: logf}
	inner.start()
	outer.start()
	defer func() { inner.kill(); outer.kill() }()
	id := s.request(t, "-f", "lavfi", "-i", "testsrc2=s=1280x720:r=25:d=12")
	s.waitFor(t, id, time.Minute, func(e shownExport) bool { return e.State == "rendering" && e.Stages[1].Progress > 0 })
	inner.kill()
	inner.start()
	e := s.waitFor(t, id, 4*time.Minute, delivered)
	attempts := map[string]int{}
	for _, st := range e.Stages {
		attempts[st.Stage] = st.Attempts
	}
	if attempts["render"] != 2 || attempts["seal"] != 1 || attempts["outbox"] != 1 {
		t.Errorf("attempts %v, want render 2, seal 1, outbox 1", attempts)
	}
	if !s.outerHolds(t, e.PackageSHA256) {
		t.Errorf("the outer does not hold package %s", e.PackageSHA256)
	}
	out := s.inner(t, "ledger", "list", "--json")
	if strings.Count(out, `"state":"issued"`) != 1 || strings.Count(out, `"state":"failed"`) != 1 {
		t.Errorf("ledger after the kill: %s", out)
	}
	if out := s.inner(t, "outbox", "list", "--json"); strings.Count(out, `"sha256"`) != 1 {
		t.Errorf("outbox: %s", out)
	}
}
