package innerd

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"sealgate/inner/ledger"
	"sealgate/inner/watermark"
	"sealgate/shared/accountui"
	"sealgate/shared/audit"
	"sealgate/shared/i18n"
)

//go:embed templates/*.html
var templateFiles embed.FS

func pages() fs.FS {
	sub, err := fs.Sub(templateFiles, "templates")
	if err != nil {
		panic(err)
	}
	return sub
}

// TraceRoles may look for the watermark in a suspect copy and read the
// export ledger: the security side of the control centre, not the operators
// who export.
var TraceRoles = []string{"admin", "auditor"}

// Trace page limits: a suspect copy can be long (the detector reads at
// most watermark.MaxFrames frames of it); one trace runs at a time, each
// in a child process of its own.
const (
	TraceUploadLimit = 4 << 30
	traceTimeout     = 15 * time.Minute
	ledgerPageRows   = 500
)

// ChildEnv marks a process the daemon started to do one job (a trace) in
// isolation: FFmpeg parses hostile files there, and a fault ends the job,
// never the daemon. Test binaries dispatch on it to act as sealgate-inner.
const ChildEnv = "SEALGATE_INNER_CHILD"

// tracer serves /trace.
type tracer struct {
	ui     *accountui.UI
	audit  *audit.Log
	ledger *ledger.Ledger
	keyDir string
	tmpDir string
	busy   chan struct{}
	log    *slog.Logger
}

// newTracer also removes uploads a stopped daemon left behind: suspect
// copies are evidence of someone else's privacy and are kept no longer than
// their trace.
func newTracer(ui *accountui.UI, audit *audit.Log, l *ledger.Ledger, keyDir, tmpDir string, log *slog.Logger) *tracer {
	stale, _ := filepath.Glob(filepath.Join(tmpDir, "trace-*.upload"))
	for _, f := range stale {
		os.Remove(f)
	}
	return &tracer{ui: ui, audit: audit, ledger: l, keyDir: keyDir, tmpDir: tmpDir, busy: make(chan struct{}, 1), log: log}
}

type traceView struct {
	LimitMB int64
	Result  *traceShown
}

type traceShown struct {
	watermark.TraceResult
	File, SHA256      string
	Appliance, Serial uint64
	AgreementPct      string
	Changes           string
	// Export is the ledger's row for the payload; nil when the ledger does
	// not hold it (a mark made by hand, or by another appliance's ledger).
	Export *ledger.Entry
	// Identical: the suspect file is byte for byte the copy that was issued.
	Identical bool
}

func (t *tracer) form(c echo.Context) error {
	return t.ui.Render(c, http.StatusOK, "trace", "trace.title", traceView{LimitMB: TraceUploadLimit >> 20}, "", "")
}

func (t *tracer) upload(c echo.Context) error {
	lang := i18n.Pick(c.Request())
	view := traceView{LimitMB: TraceUploadLimit >> 20}
	fail := func(status int, key string) error {
		return t.ui.Render(c, status, "trace", "trace.title", view, "", i18n.T(lang, key))
	}
	fh, err := c.FormFile("clip")
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return fail(http.StatusRequestEntityTooLarge, "error.too_large")
		}
		return fail(http.StatusBadRequest, "trace.no_file")
	}
	select {
	case t.busy <- struct{}{}:
		defer func() { <-t.busy }()
	default:
		return fail(http.StatusTooManyRequests, "trace.busy")
	}
	path, sum, err := t.save(fh)
	if err != nil {
		return fmt.Errorf("saving the upload: %w", err)
	}
	defer os.Remove(path)
	ctx, cancel := context.WithTimeout(c.Request().Context(), traceTimeout)
	defer cancel()
	res, err := t.run(ctx, path)
	s := accountui.Session(c)
	entry := audit.Entry{Actor: s.User.Username, Action: "watermark.trace", Target: "sha256:" + sum, Remote: c.RealIP()}
	if err != nil {
		entry.Outcome, entry.Detail = audit.Failed, err.Error()
		t.audit.Append(c.Request().Context(), entry)
		t.log.Info("trace failed", "file", fh.Filename, "error", err)
		return fail(http.StatusUnprocessableEntity, "trace.unreadable")
	}
	entry.Outcome = audit.OK
	view.Result = shown(lang, res, filepath.Base(fh.Filename), sum)
	if res.Found {
		entry.Detail = fmt.Sprintf("found %s, p ≤ %.1e, %d frames", res.Payload, res.PValue, res.Frames)
		if err := t.lookUp(c.Request().Context(), view.Result); err != nil {
			return err
		}
		if e := view.Result.Export; e != nil {
			entry.Detail += fmt.Sprintf("; ledger: issued %s for %q", e.IssuedAt.UTC().Format(time.RFC3339), e.Requester)
		} else {
			entry.Detail += "; not in the ledger"
		}
	} else {
		entry.Detail = fmt.Sprintf("not found, %d frames", res.Frames)
	}
	if err := t.audit.Append(c.Request().Context(), entry); err != nil {
		return err // a trace that is not on record is not shown
	}
	return t.ui.Render(c, http.StatusOK, "trace", "trace.title", view, "", "")
}

// ledgerPage shows the newest rows of the export ledger.
func (t *tracer) ledgerPage(c echo.Context) error {
	es, err := t.ledger.List(c.Request().Context(), ledgerPageRows)
	if err != nil {
		return err
	}
	return t.ui.Render(c, http.StatusOK, "ledger", "ledger.title", es, "", "")
}

// lookUp adds the ledger's row for a found payload.
func (t *tracer) lookUp(ctx context.Context, v *traceShown) error {
	p, err := watermark.ParsePayload(v.Payload)
	if err != nil {
		return err
	}
	e, err := t.ledger.Lookup(ctx, p)
	switch {
	case errors.Is(err, ledger.ErrNotFound):
		return nil
	case err != nil:
		return err
	}
	v.Export, v.Identical = e, e.OutputSHA256 == v.SHA256
	return nil
}

// save copies the upload to a private file (0600) and hashes it.
func (t *tracer) save(fh *multipart.FileHeader) (path, sum string, err error) {
	if err := os.MkdirAll(t.tmpDir, 0o700); err != nil {
		return "", "", err
	}
	f, err := os.CreateTemp(t.tmpDir, "trace-*.upload") // 0600
	if err != nil {
		return "", "", err
	}
	if sum, err = saveUpload(fh, f); err != nil {
		os.Remove(f.Name())
		return "", "", err
	}
	return f.Name(), sum, nil
}

// saveUpload copies an upload into f (a new private file), closes f and
// returns the upload's SHA-256.
func saveUpload(fh *multipart.FileHeader, f *os.File) (string, error) {
	defer f.Close()
	src, err := fh.Open()
	if err != nil {
		return "", err
	}
	defer src.Close()
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(f, h), src); err != nil {
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// run traces path in a child sealgate-inner (`trace --json`).
func (t *tracer) run(ctx context.Context, path string) (*watermark.TraceResult, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, exe, "trace", "--in", path, "--key-dir", t.keyDir, "--json")
	cmd.Env = append(os.Environ(), ChildEnv+"=1")
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if len(msg) > 300 {
			msg = msg[:300]
		}
		return nil, fmt.Errorf("trace: %w: %s", err, msg)
	}
	var res watermark.TraceResult
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		return nil, fmt.Errorf("trace output: %w", err)
	}
	return &res, nil
}

// shown adds what the page says about a result.
func shown(lang string, res *watermark.TraceResult, file, sum string) *traceShown {
	v := &traceShown{TraceResult: *res, File: file, SHA256: sum, AgreementPct: fmt.Sprintf("%.1f", 100*res.Agreement)}
	if p, err := watermark.ParsePayload(res.Payload); err == nil && res.Found {
		v.Appliance, v.Serial = uint64(p.Appliance()), p.Serial()
	}
	var changes []string
	if res.Gain != 0 && (res.Gain < 0.99 || res.Gain > 1.01) {
		changes = append(changes, i18n.T(lang, "trace.gain", fmt.Sprintf("%.2f", res.Gain)))
	}
	if res.Crop > 0 {
		changes = append(changes, i18n.T(lang, "trace.crop", res.Crop))
	}
	v.Changes = strings.Join(changes, " · ")
	return v
}
