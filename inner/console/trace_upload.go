package console

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"sealgate/inner/child"
	"sealgate/inner/ledger"
	"sealgate/inner/watermark"
	"sealgate/shared/accountui"
	"sealgate/shared/audit"
	"sealgate/shared/i18n"
	"sealgate/shared/keys"
)

// maxTraceOutput bounds what a trace's child may answer.
const maxTraceOutput = 64 << 10

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

// traceUpload looks for this appliance's watermark in an uploaded suspect
// copy, in a child process, and shows what the ledger says of the export it
// names. Every trace is on record, found or not, readable or not.
func (c *Console) traceUpload(e echo.Context) error {
	ctx := e.Request().Context()
	lang := i18n.Pick(e.Request())
	view := traceView{LimitMB: TraceUploadLimit >> 20}
	fail := func(status int, key string) error {
		return c.ui.Render(e, accountui.View{Name: "trace", Title: "trace.title", Data: view, Error: i18n.T(lang, key), Status: status})
	}
	fh, status, key := formFile(e, "clip", "trace.no_file")
	if fh == nil {
		return fail(status, key)
	}
	select {
	case c.busy <- struct{}{}:
		defer func() { <-c.busy }()
	default:
		return fail(http.StatusTooManyRequests, "trace.busy")
	}
	f, err := os.CreateTemp(c.tmpDir, "trace-*.upload") // 0600
	if err != nil {
		return fmt.Errorf("trace: %w", err)
	}
	path := f.Name()
	sum, err := saveUpload(fh, f)
	if err != nil {
		return err
	}
	defer os.Remove(path) // evidence of someone else's privacy: kept no longer than its trace

	tctx, cancel := context.WithTimeout(ctx, traceTimeout)
	defer cancel()
	res, err := trace(tctx, path, c.keyDir)
	s := accountui.Session(e)
	entry := audit.Entry{Actor: s.User.Username, Action: "watermark.trace", Target: "sha256:" + sum, Remote: e.RealIP()}
	if err != nil {
		entry.Outcome, entry.Detail = audit.Failed, err.Error()
		c.log.Info("trace failed", slog.String("file", fh.Filename), slog.Any("error", err))
		if aerr := c.audit.Append(ctx, entry); aerr != nil {
			return aerr // a trace that is not on record is not answered
		}
		return fail(http.StatusUnprocessableEntity, "trace.unreadable")
	}
	entry.Outcome = audit.OK
	view.Result = shown(lang, res, filepath.Base(fh.Filename), sum)
	if res.Found {
		entry.Detail = fmt.Sprintf("found %s, p ≤ %.1e, %d frames", res.Payload, res.PValue, res.Frames)
		if err := c.lookUp(ctx, view.Result); err != nil {
			return err
		}
		if x := view.Result.Export; x != nil {
			entry.Detail += fmt.Sprintf("; ledger: issued %s for %q", x.IssuedAt.UTC().Format(time.RFC3339), x.Requester)
		} else {
			entry.Detail += "; not in the ledger"
		}
	} else {
		entry.Detail = fmt.Sprintf("not found, %d frames", res.Frames)
	}
	if err := c.audit.Append(ctx, entry); err != nil {
		return err // a trace that is not on record is not shown
	}
	return c.ui.Render(e, accountui.View{Name: "trace", Title: "trace.title", Data: view})
}

// trace runs `sealgate-inner trace-child` on path in a confined child:
// FFmpeg parses the suspect copy there, so a crafted file ends the trace,
// never the daemon. The child gets the upload through a descriptor and
// the watermark key on its stdin; the key directory stays out of its
// reach.
func trace(ctx context.Context, path, keyDir string) (*watermark.TraceResult, error) {
	secret, err := keys.LoadWatermark(keyDir)
	if err != nil {
		return nil, fmt.Errorf("trace: %w", err)
	}
	j, err := child.NewJob()
	if err != nil {
		return nil, fmt.Errorf("trace: %w", err)
	}
	defer j.Close()
	in, err := j.Input(path)
	if err != nil {
		return nil, fmt.Errorf("trace: %w", err)
	}
	out, err := j.Run(ctx, child.Options{MaxStdout: maxTraceOutput, Stdin: bytes.NewReader(secret)}, "trace-child", "--in", in)
	if err != nil {
		return nil, fmt.Errorf("trace: %w", err)
	}
	var res watermark.TraceResult
	if err := json.Unmarshal(out, &res); err != nil {
		return nil, fmt.Errorf("trace output: %w", err)
	}
	return &res, nil
}

// lookUp adds the ledger's row for a found payload.
func (c *Console) lookUp(ctx context.Context, v *traceShown) error {
	p, err := watermark.ParsePayload(v.Payload)
	if err != nil {
		return err
	}
	x, err := c.ledger.Lookup(ctx, p)
	switch {
	case errors.Is(err, ledger.ErrNotFound):
		return nil
	case err != nil:
		return err
	}
	v.Export, v.Identical = x, x.OutputSHA256 == v.SHA256
	return nil
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
