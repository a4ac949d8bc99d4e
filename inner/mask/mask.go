// Package mask is the masking pipeline: analyse a clip (detect, track, plan)
// and render the plan at full resolution into the delivered H.264 video.
//
// Mask does both in one decode→encode pass: analysis runs a bounded number
// of frames ahead of rendering (the tracker's lookahead), so every frame is
// masked with what is known about the frames after it while memory stays
// flat on clips of any length. Review corrects the plan a run wrote (manual
// tracks, exclusions) and renders again with it ([Options.Plan]). The
// forensic watermark is embedded in the same render pass ([Options.Watermark]).
package mask

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"

	"sealgate/inner/mask/plan"
	"sealgate/inner/mask/render"
	"sealgate/inner/mask/track"
	"sealgate/inner/video"
	"sealgate/inner/watermark"
)

// What can be detected.
const (
	DetectFaces  = "faces"
	DetectPeople = "people"
	DetectPlates = "plates"
	// DetectSmallFaces adds to faces the native-resolution pass for faces
	// down to 20 px tall (fixed CCTV cameras; docs/masking.md, "Small faces
	// on CCTV geometry"). Opt-in until it fits the 1080p budget.
	DetectSmallFaces = "small-faces"
)

// DefaultMargin is the margin the CLI and console use unless told otherwise.
const DefaultMargin = 0.15

// DefaultDetect is what Mask looks for unless told otherwise.
var DefaultDetect = []string{DetectFaces, DetectPlates}

var detectors = []string{DetectFaces, DetectSmallFaces, DetectPeople, DetectPlates}

// Options configure a masking run.
type Options struct {
	Detect []string // DetectFaces, DetectSmallFaces, DetectPeople, DetectPlates; nil means DefaultDetect
	Style  string   // plan.StyleMosaic (default), StyleBlur, StyleSolid
	Margin float64  // fraction of a box added on every side (DefaultMargin)
	// Plan, if set, adds its manual tracks and applies its exclusions of
	// automatic tracks (by id: analysis is deterministic).
	Plan      *plan.Plan
	ModelsDir string
	Encode    video.EncodeOptions
	// Progress, if set, is called about once a second and at the end.
	Progress func(Progress)
	// AnalysisWidth is the width detection runs at (default 640).
	AnalysisWidth int
	// Watermark, if set, marks every frame with the export's payload in
	// the same render pass, after masking (inner/watermark).
	Watermark *Watermark
}

// Watermark is the forensic mark a masking run embeds.
type Watermark struct {
	Key     *watermark.Key
	Payload watermark.Payload
}

// Progress reports a running pass.
type Progress struct {
	Stage  string // "mask" while running, "done" at the end
	Frame  int
	Frames int
}

// Result describes a finished run.
type Result struct {
	Frames       int        `json:"frames"`
	MaskedFrames int        `json:"masked_frames"`
	Detections   int        `json:"detections"`
	FPS          float64    `json:"fps"`
	Seconds      float64    `json:"seconds"`
	Tracks       int        `json:"tracks"`
	PlanSHA256   string     `json:"plan_sha256"`
	Codec        string     `json:"codec,omitempty"` // MSE codec string of the output (none when only analysing)
	Width        int        `json:"width"`
	Height       int        `json:"height"`
	Plan         *plan.Plan `json:"-"`
	// Watermark is the embedded payload and the PSNR of the marks, when
	// the run marked its output.
	Watermark     string  `json:"watermark,omitempty"`
	WatermarkPSNR float64 `json:"watermark_psnr_db,omitempty"`
	// Leaks is the leak check of the output, when one was run.
	Leaks *LeakReport `json:"leaks,omitempty"`
}

func (o *Options) defaults() error {
	if o.Detect == nil {
		o.Detect = DefaultDetect
	}
	for _, d := range o.Detect {
		if !slices.Contains(detectors, d) {
			return fmt.Errorf("unknown detector %q (faces, people, plates)", d)
		}
	}
	if o.Style == "" {
		o.Style = plan.StyleMosaic
	}
	if !plan.ValidStyle(o.Style) {
		return fmt.Errorf("unknown masking style %q (mosaic, blur, solid)", o.Style)
	}
	if o.Margin < 0 || o.Margin > 1 {
		return fmt.Errorf("margin %v is not within 0..1", o.Margin)
	}
	if o.AnalysisWidth == 0 {
		o.AnalysisWidth = 640
	}
	if o.ModelsDir == "" {
		o.ModelsDir = DefaultModelsDir()
	}
	return nil
}

// planBuilder collects the emitted boxes into a plan, track by track.
type planBuilder struct {
	p      *plan.Plan
	byID   map[int]int // track id → index in p.Tracks
	manual *plan.Index
	excl   map[int]string // excluded automatic track → reason
}

func newPlanBuilder(info *video.Info, o *Options) *planBuilder {
	b := &planBuilder{
		p:    &plan.Plan{Version: plan.Version, Width: info.Width, Height: info.Height, Frames: info.Frames(), Style: o.Style, Margin: o.Margin},
		byID: map[int]int{}, excl: map[int]string{},
	}
	if o.Plan != nil {
		manual := &plan.Plan{}
		for _, t := range o.Plan.Tracks {
			switch {
			case t.Source == plan.SourceManual:
				manual.Tracks = append(manual.Tracks, t)
			case t.Excluded:
				b.excl[t.ID] = t.Reason
			}
		}
		b.manual = manual.Masked()
	}
	return b
}

// add records frame f's automatic boxes and returns every box to mask on it.
func (b *planBuilder) add(f int, outs []track.Out) []plan.Box {
	var masked []plan.Box
	for _, o := range outs {
		i, ok := b.byID[o.TrackID]
		if !ok {
			i = len(b.p.Tracks)
			b.byID[o.TrackID] = i
			reason, excluded := b.excl[o.TrackID]
			b.p.Tracks = append(b.p.Tracks, plan.Track{ID: o.TrackID, Kind: o.Kind, Source: plan.SourceAuto, Excluded: excluded, Reason: reason})
		}
		b.p.Tracks[i].Boxes = append(b.p.Tracks[i].Boxes, o.Box)
		if _, excluded := b.excl[o.TrackID]; !excluded {
			masked = append(masked, o.Box)
		}
	}
	if b.manual != nil {
		masked = append(masked, b.manual.At(f)...)
	}
	return masked
}

// finish appends the manual tracks after the automatic ones (renumbered so
// ids stay unique) and validates the plan.
func (b *planBuilder) finish(o *Options) (*plan.Plan, error) {
	slices.SortFunc(b.p.Tracks, func(x, y plan.Track) int { return x.ID - y.ID })
	if o.Plan != nil {
		next := b.p.NextID()
		for _, t := range o.Plan.Tracks {
			if t.Source == plan.SourceManual {
				t.ID = next
				next++
				t.Boxes = slices.Clone(t.Boxes)
				b.p.Tracks = append(b.p.Tracks, t)
			}
		}
	}
	if err := b.p.Validate(); err != nil {
		return nil, fmt.Errorf("the plan built from this clip is invalid: %w", err)
	}
	return b.p, nil
}

type work struct {
	i     int
	f     *video.Frame
	boxes []plan.Box
}

// Mask analyses and renders in one pass and writes the masked video to out.
// With out empty it only analyses: the plan for the review editor, with no
// render or encode.
func Mask(ctx context.Context, in, out string, opts Options) (*Result, error) {
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	info, err := probeFor(ctx, in, opts.Plan)
	if err != nil {
		return nil, err
	}
	an, err := newAnalyser(ctx, info, &opts)
	if err != nil {
		return nil, err
	}
	defer an.Close()
	pb := newPlanBuilder(info, &opts)
	masker, err := render.New(opts.Style, opts.Margin)
	if err != nil {
		return nil, err
	}
	var marker *watermark.Embedder
	if opts.Watermark != nil {
		if marker, err = watermark.NewEmbedder(opts.Watermark.Key, opts.Watermark.Payload, info.Width, info.Height, watermark.DefaultStep); err != nil {
			return nil, err
		}
	}
	start := time.Now()
	var enc *video.Encoder
	if out != "" {
		if enc, err = video.NewEncoder(ctx, info, out, opts.Encode); err != nil {
			return nil, err
		}
	}
	res := &Result{Frames: info.Frames(), Width: info.Width, Height: info.Height}
	if enc != nil {
		res.Codec = enc.Level().Codec()
	}
	if res.MaskedFrames, err = run(ctx, info, an, pb, opts.Progress, func(w work) error {
		if enc == nil {
			return nil
		}
		return renderFrame(w, masker, marker, enc)
	}); err != nil {
		if enc != nil {
			enc.Abort()
		}
		return nil, err
	}
	if enc != nil {
		if err := enc.Close(); err != nil {
			return nil, err
		}
	}
	p, err := pb.finish(&opts)
	if err != nil {
		return nil, err
	}
	res.Plan, res.Detections, res.Tracks = p, an.dets, len(p.Tracks)
	if res.PlanSHA256, err = p.SHA256(); err != nil {
		return nil, err
	}
	if marker != nil && enc != nil {
		res.Watermark, res.WatermarkPSNR = opts.Watermark.Payload.String(), math.Round(min(marker.PSNR(), 99)*100)/100
	}
	res.Seconds = time.Since(start).Seconds()
	res.FPS = float64(res.Frames) / max(res.Seconds, 1e-9)
	if opts.Progress != nil {
		opts.Progress(Progress{Stage: "done", Frame: res.Frames, Frames: res.Frames})
	}
	return res, nil
}

// run decodes the clip, has every frame analysed, and hands each to render
// with its boxes once the tracker has seen far enough ahead to settle them.
//
// One loop decodes, tracks and renders, as the ffmpeg tool's one loop
// decodes and encodes: FFmpeg's decoder and libx264 run on threads of their
// own, and every further goroutine calling into C made the Go scheduler
// hand processors back and forth (with a goroutine per stage, rendering a
// minute of 1080p took 50,000 more context switches than the ffmpeg tool,
// and libx264 22 % more CPU). Only the detectors run beside the loop, so a
// detection frame (7 ms at 1080p) never holds up the encoder's feed.
// Frames in flight are the tracker's lookahead plus a little slack: memory
// is flat at any clip length. It returns how many frames had boxes.
func run(ctx context.Context, info *video.Info, an *analyser, pb *planBuilder, progress func(Progress), render func(work) error) (masked int, err error) {
	dec, err := video.NewDecoder(ctx, info, video.DecodeOptions{})
	if err != nil {
		return 0, err
	}
	defer dec.Close()
	inFlight := an.tracker.Delay() + 8
	free := make([]*video.Frame, 0, inFlight)
	for range inFlight {
		free = append(free, video.NewFrame(info.Width, info.Height))
	}
	// Neither channel can fill: at most inFlight frames are out.
	jobs := make(chan work, inFlight)
	found := make(chan detection, inFlight)
	wctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		an.detectAll(wctx, jobs, found)
	}()
	defer func() { // the caller closes the detectors after this returns
		stop()
		close(jobs)
		<-done
	}()

	var (
		held    []work                  // decoded, boxes not final yet, in order
		pending []work                  // decoded, not given to the tracker yet, in order
		final   = map[int][]track.Out{} // settled boxes of held frames
		last    = time.Now()
	)
	collect := func(f int, outs []track.Out) { final[f] = slices.Clone(outs) }
	// release renders the held frames before frame upto.
	release := func(upto int) error {
		for len(held) > 0 && held[0].i < upto {
			w := held[0]
			held = held[1:]
			w.boxes = pb.add(w.i, final[w.i])
			delete(final, w.i)
			if len(w.boxes) > 0 {
				masked++
			}
			if err := render(w); err != nil {
				return err
			}
			free = append(free, w.f)
			if progress != nil && time.Since(last) > time.Second {
				last = time.Now()
				progress(Progress{Stage: "mask", Frame: w.i + 1, Frames: info.Frames()})
			}
		}
		return nil
	}
	// feed gives the tracker the pending frames whose detections are in,
	// waiting for the first one's if wait, and renders what that settles.
	feed := func(wait bool) error {
		for len(pending) > 0 {
			w := pending[0]
			var dets []track.Det
			if an.needs(w.i) {
				var d detection
				if wait {
					select {
					case d = <-found:
					case <-ctx.Done():
						return ctx.Err()
					}
				} else {
					select {
					case d = <-found:
					default:
						return nil
					}
				}
				if d.err != nil {
					return d.err
				}
				if d.i != w.i { // one detector goroutine, in order: a bug if not
					return fmt.Errorf("masking: detections of frame %d came for frame %d", d.i, w.i)
				}
				dets, wait = d.dets, false
			}
			pending = pending[1:]
			an.dets += len(dets)
			an.tracker.Add(w.i, dets)
			an.tracker.Emit(info.Frames(), false, collect)
			if err := release(an.tracker.Final()); err != nil {
				return err
			}
		}
		return nil
	}
	for {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		for len(free) == 0 { // every frame is out: wait for the detectors
			if len(pending) == 0 {
				return 0, errors.New("masking: no frame to decode into while none awaits detection")
			}
			if err := feed(true); err != nil {
				return 0, err
			}
		}
		f := free[len(free)-1]
		free = free[:len(free)-1]
		i, err := dec.Next(f)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, err
		}
		w := work{i: i, f: f}
		held = append(held, w)
		pending = append(pending, w)
		if an.needs(i) {
			jobs <- w
		}
		if err := feed(false); err != nil {
			return 0, err
		}
	}
	for len(pending) > 0 {
		if err := feed(true); err != nil {
			return 0, err
		}
	}
	an.tracker.Emit(info.Frames(), true, collect)
	err = release(info.Frames())
	return masked, err
}

// renderFrame masks, marks and encodes one frame.
func renderFrame(w work, masker *render.Masker, marker *watermark.Embedder, enc *video.Encoder) error {
	if len(w.boxes) > 0 {
		masker.Apply(w.f, w.boxes)
	}
	if marker != nil {
		if err := marker.Embed(w.f); err != nil {
			return err
		}
	}
	return enc.Write(w.f)
}

// probeFor probes the input and checks a given plan was made for it.
func probeFor(ctx context.Context, in string, p *plan.Plan) (*video.Info, error) {
	info, err := video.Probe(ctx, in)
	if err != nil {
		return nil, err
	}
	if p != nil && (p.Width != info.Width || p.Height != info.Height || p.Frames != info.Frames()) {
		return nil, fmt.Errorf("the mask plan is for a %d×%d clip of %d frames; %s is %d×%d with %d frames",
			p.Width, p.Height, p.Frames, in, info.Width, info.Height, info.Frames())
	}
	return info, nil
}

// ParseDetect reads a comma-separated detector list ("faces,people").
func ParseDetect(s string) ([]string, error) {
	out := []string{}
	for _, d := range strings.Split(s, ",") {
		if d = strings.TrimSpace(d); d == "" {
			continue
		}
		if !slices.Contains(detectors, d) {
			return nil, fmt.Errorf("unknown detector %q (faces, small-faces, people, plates)", d)
		}
		out = append(out, d)
	}
	return out, nil
}
