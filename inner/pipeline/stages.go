package pipeline

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"sealgate/inner/child"
	"sealgate/inner/export"
	"sealgate/inner/ledger"
	"sealgate/inner/mask"
	"sealgate/inner/mask/plan"
	"sealgate/inner/outbox"
	"sealgate/inner/requester"
	"sealgate/inner/review"
	"sealgate/inner/video"
	"sealgate/inner/watermark"
	"sealgate/shared/buildinfo"
	"sealgate/shared/seal"
)

// An export's files in its work directory: the cut (when there is one),
// the marked copy (deleted once sealed: plaintext never waits on disk
// longer than it must), the sealed package, and an offline package's
// hand-over password (shown once, then deleted).
const (
	cutFile      = "cut.mp4"
	renderedFile = "marked.mp4"
	passwordFile = "handover.password"
)

// PackageFile is the sealed package's name in the export's directory.
func PackageFile(e *export.Export) string { return e.Code + ".sgpkg" }

// PasswordPath is where an offline export's hand-over password waits.
func PasswordPath(workDir string, id int64) string {
	return filepath.Join(workDir, strconv.FormatInt(id, 10), passwordFile)
}

func (p *Pipeline) dir(id int64) (string, error) {
	d := filepath.Join(p.cfg.WorkDir, strconv.FormatInt(id, 10))
	if err := os.MkdirAll(d, 0o700); err != nil {
		return "", fmt.Errorf("pipeline: work directory: %w", err)
	}
	return d, nil
}

func (p *Pipeline) run(ctx context.Context, j *export.Job, stage string, progress func(frac, fps float64)) error {
	dir, err := p.dir(j.ID)
	if err != nil {
		return err
	}
	switch stage {
	case "transcode":
		return p.transcode(ctx, j, dir, progress)
	case "render":
		return p.render(ctx, j, dir, progress)
	case "seal":
		return p.seal(ctx, j, dir)
	case "outbox":
		return p.queue(ctx, j, dir)
	}
	return permanent{fmt.Errorf("pipeline: unknown stage %q", stage)}
}

// transcode cuts the requested range and scales to 720p when asked; an
// export of the whole clip at its own size skips it and renders straight
// from the verified original.
func (p *Pipeline) transcode(ctx context.Context, j *export.Job, dir string, progress func(frac, fps float64)) error {
	if j.FromS == 0 && j.ToS == nil && j.Transcode == "keep" {
		return p.finish(ctx, j.ID, "transcode", "skipped", export.Transcoding, export.Rendering, nil)
	}
	// Each stage that reads the original checks it first: this one when it
	// cuts, render when it reads the original itself.
	if err := export.VerifyOriginal(j.Footage); err != nil {
		return permanent{err}
	}
	out := filepath.Join(dir, cutFile)
	os.Remove(out) // an attempt cut short
	// ffmpeg decodes the original, so it runs as a confined child
	// (inner/child): the original as a descriptor, the cut written in the
	// child's work directory and taken from there.
	cj, err := child.NewJob()
	if err != nil {
		return err
	}
	defer cj.Close()
	in, err := cj.Input(j.Footage.Path)
	if err != nil {
		return err
	}
	work, err := cj.WorkDir(dir)
	if err != nil {
		return err
	}
	args := []string{"ffmpeg", "-nostdin", "-v", "error", "-y", "-progress", "pipe:2", "-ss", fmt.Sprintf("%.3f", j.FromS)}
	span := j.Footage.DurationS - j.FromS
	if j.ToS != nil {
		args = append(args, "-to", fmt.Sprintf("%.3f", *j.ToS))
		span = *j.ToS - j.FromS
	}
	args = append(args, "-i", in, "-map", "0:v:0", "-an")
	if j.Transcode == "720p" && j.Footage.Height > 720 {
		args = append(args, "-vf", "scale=-2:720")
	}
	// Near-lossless: the render pass encodes once more, and that is the
	// copy the officer sees.
	args = append(args, "-c:v", "libx264", "-preset", "veryfast", "-crf", "12", "-pix_fmt", "yuv420p", "-f", "mp4", work+"/"+cutFile)
	// ffmpeg's -progress lines on stderr: out_time_us=…, fps=…; any other
	// line is what it says went wrong.
	var fps float64
	_, err = cj.Run(ctx, child.Options{Line: func(line []byte) bool {
		k, v, ok := strings.Cut(string(line), "=")
		if !ok || strings.ContainsAny(k, " :") {
			return false
		}
		switch k {
		case "fps":
			fps, _ = strconv.ParseFloat(v, 64)
		case "out_time_us":
			if us, err := strconv.ParseFloat(v, 64); err == nil && span > 0 {
				progress(us/1e6/span, fps)
			}
		}
		return true
	}}, append([]string{child.ExecCommand}, args...)...)
	if err != nil {
		return fmt.Errorf("pipeline: cut %s: %w", j.Footage.FileName, err)
	}
	if err := cj.Take(cutFile, out); err != nil {
		return fmt.Errorf("pipeline: cut %s: %w", j.Footage.FileName, err)
	}
	return p.finish(ctx, j.ID, "transcode", "done", export.Transcoding, export.Rendering, nil)
}

// render masks (unless the request justified no masking) and marks the
// copy with the ledger's next serial, in one encode (inner/export.Issuer),
// then checks the masked copy for leaks: all of it in a confined child
// (render_child.go), since it decodes the footage.
func (p *Pipeline) render(ctx context.Context, j *export.Job, dir string, progress func(frac, fps float64)) error {
	src := RenderSource(p.cfg.WorkDir, j.ID, j.Footage.Path)
	if src == j.Footage.Path {
		if err := export.VerifyOriginal(j.Footage); err != nil {
			return permanent{err}
		}
	}
	// A render cut short left a serial open and maybe a partial copy: the
	// serial is closed as failed (it stays taken), the copy removed.
	if j.Serial != nil {
		if _, err := p.cfg.Issuer.Ledger.Fail(ctx, uint64(*j.Serial), errors.New("render interrupted; the export was rendered again")); err != nil &&
			!errors.Is(err, ledger.ErrNotRendering) {
			return err
		}
	}
	out := filepath.Join(dir, renderedFile)
	os.Remove(out)
	if len(p.cfg.WatermarkSecret) == 0 {
		return permanent{errors.New("pipeline: no watermark key secret (Config.WatermarkSecret) for the render child")}
	}
	job := renderJob{Detect: p.cfg.Detect, ModelsDir: p.cfg.ModelsDir, CRF: 20, Key: p.cfg.WatermarkSecret, LeakCheck: j.Masked}
	if job.Detect == nil {
		job.Detect = []string{mask.DetectSmallFaces, mask.DetectPeople, mask.DetectPlates}
	}
	if !j.Masked {
		job.Detect = []string{}
	}
	if j.ReviewID != "" {
		// Sent back by the approver: the reviewed plan's drawn tracks
		// and exclusions join the detections.
		reviewed, err := p.reviewedPlan(ctx, j.ReviewID)
		if err != nil {
			return err
		}
		if job.Plan, err = reviewed.Encode(); err != nil {
			return fmt.Errorf("pipeline: the reviewed plan %s: %w", j.ReviewID, err)
		}
	}
	reason := requester.LedgerReason(j.ReasonCode, j.Detail, j.DocumentNo)
	// The ledger's serial is opened and closed here; the child only
	// renders (mask, mark, leak check) with the mark it is given.
	var ans *renderAnswer
	res, _, err := p.cfg.Issuer.Issue(ctx, export.Copy{In: src, Out: out, Reason: reason,
		// The copies' ledger and its audit entry are not encrypted: they
		// name the export, whose record holds the sealed requester.
		Requester: requester.LedgerLabel(j.Code, j.Agency),
		IssuedBy:  j.DecidedBy, Original: j.Footage,
		Opened: func(ctx context.Context, serial uint64) error { return p.cfg.Workflow.SetSerial(ctx, j.ID, serial) },
	}, func(wm *mask.Watermark) (*mask.Result, error) {
		job.Payload = wm.Payload
		var err error
		if ans, err = p.renderInChild(ctx, job, src, out, dir, progress); err != nil {
			return nil, err
		}
		return ans.Result, nil
	})
	if err != nil {
		if errors.Is(err, video.ErrNotVideo) {
			return permanent{err}
		}
		return err
	}
	planSum, err := hex.DecodeString(res.PlanSHA256)
	if err != nil || len(planSum) != 32 {
		return fmt.Errorf("pipeline: the mask plan's hash %q: %v", res.PlanSHA256, err)
	}
	next, leaks := export.Sealing, (*export.LeakReport)(nil)
	if j.Masked {
		leaks = leakReport(res.Leaks, ans.PlanWidth, ans.PlanHeight)
		if len(leaks.Suspects) > 0 || p.cfg.AlwaysRelease {
			next = export.Checking
		}
	}
	return p.finish(ctx, j.ID, "render", "done", export.Rendering, next, func(tx pgx.Tx) error {
		if leaks != nil {
			if err := p.cfg.Workflow.SetLeaks(ctx, tx, j.ID, leaks); err != nil {
				return err
			}
		}
		var counts *plan.Counts
		if j.Masked {
			counts = &ans.Counts
		}
		return p.cfg.Workflow.SetRendered(ctx, tx, j.ID, planSum, counts)
	})
}

// reviewedPlan is the saved plan of review workspace id.
func (p *Pipeline) reviewedPlan(ctx context.Context, id string) (*plan.Plan, error) {
	if p.cfg.Reviews == nil {
		return nil, permanent{errors.New("pipeline: this node has no review workspaces to read the reviewed plan from")}
	}
	b, err := p.cfg.Reviews.Plan(ctx, id)
	if errors.Is(err, review.ErrNotFound) {
		return nil, permanent{err}
	}
	if err != nil {
		return nil, err
	}
	pl, err := plan.Parse(bytes.NewReader(b))
	if err != nil {
		return nil, permanent{fmt.Errorf("pipeline: the reviewed plan %s: %w", id, err)}
	}
	return pl, nil
}

// RenderSource is what export id renders from: its cut when it has one,
// else the original.
func RenderSource(workDir string, id int64, original string) string {
	cut := filepath.Join(workDir, strconv.FormatInt(id, 10), cutFile)
	if _, err := os.Stat(cut); err == nil {
		return cut
	}
	return original
}

// leakReport is the export's record of the leak check the render child ran
// on the masked copy (mask.LeakCheck): what it cannot rule out the
// approver sees before release.
func leakReport(rep *mask.LeakReport, width, height int) *export.LeakReport {
	r := &export.LeakReport{FramesChecked: rep.FramesChecked, Width: width, Height: height, Suspects: []export.Suspect{}}
	for _, s := range rep.Suspects {
		r.Suspects = append(r.Suspects, export.Suspect{Frame: s.Frame, Reason: s.Reason, X: s.X, Y: s.Y, W: s.W, H: s.H})
	}
	return r
}

// seal signs and encrypts the marked copy: to the paired outer's license
// key (online) or under a generated password (offline).
func (p *Pipeline) seal(ctx context.Context, j *export.Job, dir string) error {
	in := filepath.Join(dir, renderedFile)
	pkg := filepath.Join(dir, PackageFile(j.Export))
	os.Remove(pkg)
	opts := seal.Options{Signer: p.cfg.Signer}
	if j.Delivery == "offline" {
		pw, err := p.password(j.ID)
		if err != nil {
			return err
		}
		opts.Password = pw
	} else {
		if p.cfg.License == nil {
			return permanent{errors.New("pipeline: no outer license key configured (transfer.outer_license): an online export cannot be sealed; pair the outer or deliver offline")}
		}
		opts.Recipients = append(opts.Recipients, p.cfg.License)
	}
	now := time.Now().UTC()
	m := seal.Manifest{
		ExportID: strconv.FormatInt(j.ID, 10), ExportCode: j.Code,
		Camera:     seal.Camera{Name: j.CameraName, Location: j.CameraLocation},
		ReasonCode: j.ReasonCode,
		Recipient:  seal.Recipient{Name: j.Recipient, Agency: j.Agency, ID: j.DocumentNo},
		ViewFrom:   now, ViewUntil: now.AddDate(0, 0, j.ViewingDays),
		OriginalSHA256: j.Footage.SHA256, MaskPlanSHA256: j.MaskPlanSHA256, UnmaskedReason: j.UnmaskedReason,
		MediaType: "video/mp4", FileName: j.Code + ".mp4",
		ToolVersions: map[string]string{"sealgate-inner": buildinfo.Version, "opencv": video.OpenCVVersion()},
	}
	if j.Serial != nil {
		m.Watermark = watermark.ExportPayload(p.cfg.Issuer.Ledger.Appliance(), uint64(*j.Serial)).String()
	}
	if s := j.Footage.StartedAt; s != nil {
		m.TimeFrom = s.Add(time.Duration(j.FromS * float64(time.Second)))
		to := j.Footage.DurationS
		if j.ToS != nil {
			to = *j.ToS
		}
		m.TimeTo = s.Add(time.Duration(to * float64(time.Second)))
	}
	if _, err := seal.SealFile(in, pkg, m, opts); err != nil {
		return err
	}
	sum, err := export.HashFile(pkg)
	if err != nil {
		return err
	}
	to := export.Sealing
	if j.Delivery == "offline" {
		to = export.Ready
	}
	err = p.finish(ctx, j.ID, "seal", "done", export.Sealing, to, func(tx pgx.Tx) error {
		return p.cfg.Workflow.SetSealed(ctx, tx, j.ID, pkg, sum[:])
	})
	if err == nil {
		os.Remove(in)
		os.Remove(filepath.Join(dir, cutFile))
	}
	return err
}

// password is the offline package's hand-over password: made once per
// export (a retried seal uses the same), kept 0600 until it is shown.
func (p *Pipeline) password(id int64) ([]byte, error) {
	path := PasswordPath(p.cfg.WorkDir, id)
	if b, err := os.ReadFile(path); err == nil && len(b) >= 12 {
		return b, nil
	}
	pw := NewPassword()
	if err := os.WriteFile(path, []byte(pw), 0o600); err != nil {
		return nil, fmt.Errorf("pipeline: keep the hand-over password: %w", err)
	}
	return []byte(pw), nil
}

// NewPassword is 100 random bits in Crockford's base32 (no I, L, O, U
// to misread), as five groups of four, to read out or copy from a slip.
func NewPassword() string {
	const symbols = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	b := make([]byte, 20)
	rand.Read(b)
	var sb strings.Builder
	for i, c := range b {
		if i > 0 && i%4 == 0 {
			sb.WriteByte('-')
		}
		sb.WriteByte(symbols[c&31])
	}
	return sb.String()
}

// queue puts the sealed package in the outbox for the paired outer; the
// outbox keeps its own verified copy, so the export's is removed.
func (p *Pipeline) queue(ctx context.Context, j *export.Job, dir string) error {
	pkg := filepath.Join(dir, PackageFile(j.Export))
	var outboxID int64
	e, err := p.cfg.Outbox.Add(ctx, "system", pkg, p.cfg.Signer.Public().(ed25519.PublicKey), 0)
	switch {
	case errors.Is(err, outbox.ErrQueued): // queued by an attempt cut short
		if outboxID, err = p.cfg.Outbox.Lookup(ctx, j.PackageSHA256); err != nil {
			return err
		}
	case err != nil:
		return err
	default:
		outboxID = e.ID
	}
	err = p.finish(ctx, j.ID, "outbox", "done", export.Sealing, export.Queued, func(tx pgx.Tx) error {
		return p.cfg.Workflow.SetQueued(ctx, tx, j.ID, outboxID)
	})
	if err == nil {
		os.Remove(pkg)
	}
	return err
}
