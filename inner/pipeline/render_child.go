package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"sealgate/inner/child"
	"sealgate/inner/mask"
	"sealgate/inner/mask/plan"
	"sealgate/inner/video"
	"sealgate/inner/watermark"
)

// The render stage decodes footage, so it runs in a confined child
// (inner/child, docs/architecture.md "Children"): `sealgate-inner
// render-child` reads one renderJob on stdin, reports progress on stderr as
// JSON lines {"frame":N,"frames":M} and answers one renderAnswer on stdout.
// The daemon keeps the ledger, the database and the keys; the child gets
// the source as a descriptor, a work directory to write the marked copy in,
// and the watermark key's secret in the job.

// renderedName is the marked copy in the child's work directory.
const renderedName = "marked.mp4"

// maxRenderAnswer bounds the child's answer: counts, hashes and the leak
// check's suspects.
const maxRenderAnswer = 16 << 20

// renderJob is what the daemon asks of a render child.
type renderJob struct {
	In  string `json:"in"`  // the child's name for the source
	Out string `json:"out"` // the marked copy to write, in its work directory
	// Detect: nil runs the default detectors, empty none (an unmasked export).
	Detect    []string          `json:"detect"`
	ModelsDir string            `json:"models_dir,omitempty"`
	CRF       int               `json:"crf"`
	Key       []byte            `json:"key"`     // the watermark key's secret
	Payload   watermark.Payload `json:"payload"` // the ledger's mark
	Plan      json.RawMessage   `json:"plan,omitempty"`
	LeakCheck bool              `json:"leak_check"`
}

// renderAnswer is a render child's result; the plan itself stays in the
// child, only its hash and frame size come back.
type renderAnswer struct {
	*mask.Result
	PlanWidth  int         `json:"plan_width"`
	PlanHeight int         `json:"plan_height"`
	Counts     plan.Counts `json:"counts"` // what the plan masks, for the ledger
	// NotVideo is set, alone, when the source is not a video: an error no
	// retry mends.
	NotVideo string `json:"not_video,omitempty"`
}

// RenderChild is `sealgate-inner render-child`: the render of one export,
// in the child the pipeline started for it.
func RenderChild(ctx context.Context, stdin io.Reader, stdout, stderr io.Writer) error {
	var job renderJob
	dec := json.NewDecoder(io.LimitReader(stdin, plan.MaxBytes+1<<20))
	if err := dec.Decode(&job); err != nil {
		return fmt.Errorf("render: the job on stdin: %w", err)
	}
	key, err := watermark.NewKey(job.Key)
	if err != nil {
		return fmt.Errorf("render: %w", err)
	}
	opts := mask.Options{Detect: job.Detect, ModelsDir: job.ModelsDir, Encode: video.EncodeOptions{CRF: job.CRF},
		Watermark: &mask.Watermark{Key: key, Payload: job.Payload}}
	if len(job.Plan) > 0 && string(job.Plan) != "null" {
		if opts.Plan, err = plan.Parse(bytes.NewReader(job.Plan)); err != nil {
			return fmt.Errorf("render: the reviewed plan: %w", err)
		}
	}
	progress := json.NewEncoder(stderr)
	opts.Progress = func(p mask.Progress) { progress.Encode(map[string]int{"frame": p.Frame, "frames": p.Frames}) }
	res, err := mask.Mask(ctx, job.In, job.Out, opts)
	if errors.Is(err, video.ErrNotVideo) {
		return json.NewEncoder(stdout).Encode(renderAnswer{NotVideo: err.Error()})
	}
	if err != nil {
		return err
	}
	if job.LeakCheck {
		if res.Leaks, err = mask.LeakCheck(ctx, job.Out, res.Plan, job.ModelsDir); err != nil {
			return fmt.Errorf("leak check: %w", err)
		}
	}
	return json.NewEncoder(stdout).Encode(renderAnswer{Result: res, PlanWidth: res.Plan.Width, PlanHeight: res.Plan.Height, Counts: res.Plan.Count()})
}

// renderInChild runs job in a render child that reads src and leaves the
// marked copy at out (in dir, the export's directory). progress hears the
// share of frames done and the frames per second.
func (p *Pipeline) renderInChild(ctx context.Context, job renderJob, src, out, dir string, progress func(frac, fps float64)) (*renderAnswer, error) {
	j, err := child.NewJob()
	if err != nil {
		return nil, err
	}
	defer j.Close()
	if job.In, err = j.Input(src); err != nil {
		return nil, err
	}
	work, err := j.WorkDir(dir)
	if err != nil {
		return nil, err
	}
	job.Out = work + "/" + renderedName
	in, err := json.Marshal(job)
	if err != nil {
		return nil, fmt.Errorf("pipeline: the render job: %w", err)
	}
	start := time.Now()
	b, err := j.Run(ctx, child.Options{MaxStdout: maxRenderAnswer, Stdin: bytes.NewReader(in), Line: func(line []byte) bool {
		var pr struct{ Frame, Frames int }
		if json.Unmarshal(line, &pr) != nil || pr.Frames <= 0 {
			return false
		}
		progress(float64(pr.Frame)/float64(pr.Frames), float64(pr.Frame)/max(time.Since(start).Seconds(), 1e-3))
		return true
	}}, "render-child")
	if err != nil {
		return nil, fmt.Errorf("pipeline: render: %w", err)
	}
	ans := renderAnswer{Result: &mask.Result{}}
	if err := json.Unmarshal(b, &ans); err != nil {
		return nil, fmt.Errorf("pipeline: the render child's answer: %w", err)
	}
	if ans.NotVideo != "" {
		return nil, permanent{fmt.Errorf("pipeline: render: %s (%w)", j.Explain(ans.NotVideo), video.ErrNotVideo)}
	}
	if ans.Frames < 1 || ans.PlanWidth < 2 || ans.PlanHeight < 2 || (job.LeakCheck && ans.Leaks == nil) {
		return nil, errors.New("pipeline: the render child's answer is incomplete")
	}
	if err := j.Take(renderedName, out); err != nil {
		return nil, fmt.Errorf("pipeline: the marked copy: %w", err)
	}
	return &ans, nil
}
