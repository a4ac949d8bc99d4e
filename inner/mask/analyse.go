package mask

import (
	"context"
	"fmt"
	"image"
	"math"
	"path/filepath"

	"sealgate/inner/mask/detect"
	"sealgate/inner/mask/plan"
	"sealgate/inner/mask/track"
	"sealgate/inner/video"
)

// analyser runs the detectors on frames in order and feeds the tracker.
type analyser struct {
	info    *video.Info
	small   *detect.Small
	faces   *detect.Faces
	search  *detect.FaceSearch // where faces are looked for at native resolution
	people  *detect.People
	plates  *detect.Plates
	tracker *track.Tracker
	stride  int // faces and plates run on every stride-th frame
	dets    int
}

func newAnalyser(ctx context.Context, info *video.Info, o *Options) (*analyser, error) {
	a := &analyser{info: info, small: detect.NewSmall(o.AnalysisWidth)}
	// About ten detections a second; the tracker fills the frames between.
	a.stride = max(1, int(math.Round(info.FrameRate/10)))
	fps := max(info.FrameRate, 1)
	a.tracker = track.New(track.Config{
		MaxGap: max(3*a.stride, int(fps/2)),
		Pad:    max(a.stride+2, int(math.Round(fps/5))),
		// The native pass reports faces from detect.NativeThreshold; a
		// weaker one is masked once two more detections confirm it.
		Confirm: map[string]float64{plan.KindFace: detect.FaceThreshold},
	}, info.Width, info.Height)
	var err error
	for _, d := range o.Detect {
		switch d {
		case DetectFaces, DetectSmallFaces:
			if a.faces == nil {
				a.faces, err = detect.NewFaces(filepath.Join(o.ModelsDir, detect.BlazeFaceFile))
			}
			if d == DetectSmallFaces {
				a.search = detect.NewFaceSearch(info.Width, info.Height)
			}
		case DetectPeople:
			a.people = detect.NewPeople(info.FrameRate)
			err = a.primePeople(ctx)
		case DetectPlates:
			a.plates = detect.NewPlates()
		}
		if err != nil {
			a.Close()
			return nil, err
		}
	}
	return a, nil
}

func (a *analyser) Close() {
	a.small.Close()
	if a.faces != nil {
		a.faces.Close()
	}
	if a.search != nil {
		a.search.Close()
	}
	if a.people != nil {
		a.people.Close()
	}
	if a.plates != nil {
		a.plates.Close()
	}
}

// primeSamples is how many frames, spread over the clip, the people
// detector's empty scene is the median of: a person standing in fewer
// than half of them is not part of it.
const primeSamples = 9

// primePeople shows the people detector frames sampled across the clip
// (decoded small, by seeking) so that its scene is the clip's median.
func (a *analyser) primePeople(ctx context.Context) error {
	n := a.info.Frames()
	if n < 3*primeSamples {
		return nil // too short for a median to differ from the first frame
	}
	dec, err := video.NewDecoder(ctx, a.info, video.DecodeOptions{Width: a.small.MaxWidth()})
	if err != nil {
		return fmt.Errorf("people detector: sampling the clip: %w", err)
	}
	defer dec.Close()
	w, h := dec.Size()
	fr := video.NewFrame(w, h)
	for j := range primeSamples {
		if err := dec.At(j*(n-1)/(primeSamples-1), fr); err != nil {
			return fmt.Errorf("people detector: sampling the clip: %w", err)
		}
		if err := a.small.Load(fr); err != nil {
			return err
		}
		a.people.Prime(a.small)
	}
	return nil
}

// needs reports whether frame i goes to the detectors (every stride-th
// frame; every frame when people are tracked, as background subtraction
// learns from each).
func (a *analyser) needs(i int) bool {
	return a.people != nil || (i%a.stride == 0 && (a.faces != nil || a.plates != nil))
}

// detect runs the detectors on frame i. Frames must come in order (the
// people detector learns the background from each).
func (a *analyser) detect(i int, f *video.Frame) ([]track.Det, error) {
	if err := a.small.Load(f); err != nil {
		return nil, err
	}
	var dets []track.Det
	put := func(kind string, boxes []detect.Box) {
		for _, b := range boxes {
			dets = append(dets, track.Det{Kind: kind, X: b.Min.X, Y: b.Min.Y, W: b.Dx(), H: b.Dy(), Score: b.Score})
		}
	}
	if a.people != nil {
		put(plan.KindPerson, a.people.Detect(a.small))
	}
	if i%a.stride == 0 && a.faces != nil {
		b, err := a.faces.Detect(a.small)
		if err != nil {
			return nil, err
		}
		if a.search != nil {
			native, err := a.faces.DetectNative(f, a.search.Regions(a.small))
			if err != nil {
				return nil, err
			}
			b = detect.Fill(b, native)
			a.search.Found(b)
			for i := range b {
				b[i].Rectangle = growSmall(b[i].Rectangle, f.Width, f.Height)
			}
		}
		put(plan.KindFace, b)
	}
	if i%a.stride == 0 && a.plates != nil {
		put(plan.KindPlate, a.plates.Detect(a.small))
	}
	return dets, nil
}

// growSmall widens a small face's box by the few pixels the detector's
// box is off by at that size (the evaluation's 24 px faces were found up
// to 10 px from where they were), which the plan's margin, a fraction of
// the box, does not cover: 4 px each side at 24 px, none from 48.
//
// A face cut by the picture's edge is found by its visible part, and the
// box the detector draws for a half face sits off the face's centre along
// the edge: such a box grows by a quarter along the edge.
func growSmall(r image.Rectangle, w, h int) image.Rectangle {
	if side := max(r.Dx(), r.Dy()); side < 48 {
		r = r.Inset(-(48 - side) / 6)
	}
	if r.Min.X <= r.Dx()/8 || r.Max.X >= w-r.Dx()/8 {
		r.Min.Y, r.Max.Y = r.Min.Y-r.Dy()/4, r.Max.Y+r.Dy()/4
	}
	if r.Min.Y <= r.Dy()/8 || r.Max.Y >= h-r.Dy()/8 {
		r.Min.X, r.Max.X = r.Min.X-r.Dx()/4, r.Max.X+r.Dx()/4
	}
	return r.Intersect(image.Rect(0, 0, w, h))
}

// detection is what the detectors found on one frame.
type detection struct {
	i    int
	dets []track.Det
	err  error
}

// detectAll runs the detectors on the frames it is sent, in order, and
// sends back what they found, until jobs is closed.
func (a *analyser) detectAll(ctx context.Context, jobs <-chan work, found chan<- detection) {
	for w := range jobs {
		if ctx.Err() != nil {
			continue // drain: the loop is stopping
		}
		dets, err := a.detect(w.i, w.f)
		if err != nil {
			err = fmt.Errorf("analysing frame %d: %w", w.i, err)
		}
		found <- detection{w.i, dets, err}
	}
}
