package detect

import (
	"image"
	"math"
	"slices"

	"gocv.io/x/gocv"
)

// People finds people on a fixed camera by what differs from the empty
// scene, and keeps finding them when they stop (docs/masking.md,
// "Far-field people and people who stop"). Far from the camera a face is a
// few pixels that no face detector finds; the whole body is masked instead.
//
// Two background models run side by side. A Gaussian mixture (MOG2) says
// what is moving now; it learns from every frame, so within a few hundred
// frames a person who stands still becomes part of its background. Ours
// is the scene itself: a running average that learns quickly only where
// nothing has changed, and slowly (minutes) where something has. A region
// that differs from our scene is a person when it moves, or touches a
// person found the frame before: so someone who walks in and stops stays
// masked while they stand, and is let go when they walk on (the region is
// the scene again). Primed with the clip's median (Prime), our scene
// does not hold the people who stand there when the clip starts, so they
// are found on the first frame.
type People struct {
	mog        gocv.BackgroundSubtractorMOG2
	small      gocv.Mat
	moving     gocv.Mat // MOG2's foreground, 0/255
	changed    gocv.Mat // differs from the scene, 0/255
	scene      gocv.Mat // the empty scene, float32
	scene8     gocv.Mat
	update     gocv.Mat // where the scene learns, 0/255
	kernelOpen gocv.Mat
	kernelClos gocv.Mat
	slow       float64 // the scene's learning rate where something changed
	samples    [][]byte
	w, h       int
	frames     int
	stills     []still
}

// still is a person found on an earlier frame, in model pixels.
type still struct {
	r      image.Rectangle
	missed int // frames running without a region that continues it
}

const (
	// peopleWidth is the width the models run at: people 40 px tall in a
	// 1080p frame are still 10 px here, and both cost ~3 ms a frame.
	peopleWidth = 480
	// changedLevel is the luma difference from the scene that counts as
	// changed: above the noise of a compressed camera stream (3–8), below
	// a dark coat on grey paving (40+).
	changedLevel = 28
	// sceneRate is how fast the scene follows light where nothing changed
	// (a time constant of 50 frames).
	sceneRate = 0.02
	// stillMinutes is how long a region that stopped changing is held
	// before it becomes scene (a parked car, a moved bench): 3 minutes.
	stillMinutes = 3
	// stillGrace is how many frames a person stays masked where they were
	// when nothing continues them (a passer-by crossing in front).
	stillGrace = 3
)

// NewPeople returns a detector for a clip at fps frames a second; feed it
// every frame in order.
func NewPeople(fps float64) *People {
	fps = max(fps, 1)
	// A region changed by d levels fades below changedLevel after
	// ln(d/changedLevel)/rate frames; for d ≈ 60 that is 0.76/rate.
	slow := 0.76 / (stillMinutes * 60 * fps)
	return &People{
		// MOG2's long history keeps slow walkers from fading mid-stride.
		mog:        gocv.NewBackgroundSubtractorMOG2WithParams(2000, 12, true),
		small:      gocv.NewMat(),
		moving:     gocv.NewMat(),
		changed:    gocv.NewMat(),
		scene:      gocv.NewMat(),
		scene8:     gocv.NewMat(),
		update:     gocv.NewMat(),
		kernelOpen: gocv.GetStructuringElement(gocv.MorphEllipse, image.Pt(3, 3)),
		kernelClos: gocv.GetStructuringElement(gocv.MorphEllipse, image.Pt(5, 9)),
		slow:       slow,
	}
}

// Close releases the models.
func (p *People) Close() {
	p.mog.Close()
	for _, m := range []*gocv.Mat{&p.small, &p.moving, &p.changed, &p.scene, &p.scene8, &p.update, &p.kernelOpen, &p.kernelClos} {
		m.Close()
	}
}

// resize puts the model-sized copy of s in p.small.
func (p *People) resize(s *Small) {
	w := min(peopleWidth, s.W)
	h := max(2, s.H*w/s.W)
	gocv.Resize(s.Gray(), &p.small, image.Pt(w, h), 0, 0, gocv.InterpolationArea)
	p.w, p.h = w, h
}

// Prime gives the detector a frame sampled from the clip before the clip
// is fed in order; the first frame's scene is the samples' median, so
// people standing there at the start (present in fewer than half the
// samples) differ from it. Without samples the scene starts as the first
// frame.
func (p *People) Prime(s *Small) {
	p.resize(s)
	if len(p.samples) > 0 && len(p.samples[0]) != p.w*p.h {
		return // not the clip's size
	}
	p.samples = append(p.samples, p.small.ToBytes())
}

// startScene sets the scene from the samples' median, or the first frame.
func (p *People) startScene() {
	src := p.small
	if len(p.samples) > 0 {
		med := make([]byte, len(p.samples[0]))
		vals := make([]byte, len(p.samples))
		for i := range med {
			for j, s := range p.samples {
				vals[j] = s[i]
			}
			slices.Sort(vals)
			med[i] = vals[len(vals)/2]
		}
		m, err := gocv.NewMatFromBytes(p.h, p.w, gocv.MatTypeCV8U, med)
		if err == nil {
			defer m.Close()
			src = m
		}
		p.samples = nil
	}
	src.ConvertTo(&p.scene, gocv.MatTypeCV32F)
}

// Detect updates the models with s and returns the people on it.
func (p *People) Detect(s *Small) []Box {
	p.resize(s)
	if p.frames == 0 || p.scene.Rows() != p.h || p.scene.Cols() != p.w {
		p.startScene()
	}
	p.frames++
	p.mog.Apply(p.small, &p.moving)
	// 255 is foreground, 127 shadow: keep foreground only.
	gocv.Threshold(p.moving, &p.moving, 200, 255, gocv.ThresholdBinary)
	p.clean(&p.moving)
	p.scene.ConvertTo(&p.scene8, gocv.MatTypeCV8U)
	gocv.AbsDiff(p.small, p.scene8, &p.changed)
	gocv.Threshold(p.changed, &p.changed, changedLevel, 255, gocv.ThresholdBinary)
	p.clean(&p.changed)
	// MOG2 needs a few frames before its foreground means anything; until
	// then (and on the first frame, from the median) the scene decides.
	warm := p.frames > 5
	var found []image.Rectangle
	for _, r := range p.regions(p.changed) {
		if !warm || p.share(p.moving, r) >= 0.05 || p.continues(r) {
			found = append(found, r)
		}
	}
	next := make([]still, 0, len(found)+len(p.stills))
	for _, r := range found {
		next = append(next, still{r: r})
	}
	for _, st := range p.stills {
		if overlapsAny(st.r, found) || st.missed >= stillGrace {
			continue
		}
		st.missed++
		next = append(next, st)
		found = append(found, st.r)
	}
	p.stills = next
	// What MOG2 sees moving that the scene does not explain (lighting on
	// a region the scene has not learnt yet) is still reported, unless
	// the scene says nothing changed there: MOG2's ghost of a person who
	// has left.
	if warm {
		for _, r := range p.regions(p.moving) {
			if !overlapsAny(r, found) && p.share(p.changed, r) >= 0.2 {
				found = append(found, r)
			}
		}
	}
	p.learn()
	out := make([]Box, 0, len(found))
	k := float64(s.W) / float64(p.w)
	for _, r := range found {
		small := image.Rect(int(float64(r.Min.X)*k), int(float64(r.Min.Y)*k), int(math.Ceil(float64(r.Max.X)*k)), int(math.Ceil(float64(r.Max.Y)*k)))
		out = append(out, Box{s.Full(small), 1})
	}
	return out
}

// learn updates the scene: quickly where nothing changed or moves, slowly
// where something changed and stopped, not at all where something moves.
func (p *People) learn() {
	gocv.BitwiseOr(p.moving, p.changed, &p.update)
	gocv.BitwiseNot(p.update, &p.update)
	gocv.AccumulatedWeightedWithMask(p.small, &p.scene, sceneRate, p.update)
	gocv.BitwiseNot(p.moving, &p.update)
	gocv.BitwiseAnd(p.update, p.changed, &p.update)
	gocv.AccumulatedWeightedWithMask(p.small, &p.scene, p.slow, p.update)
}

// clean drops specks and closes a body's parts into one region.
func (p *People) clean(m *gocv.Mat) {
	gocv.MorphologyEx(*m, m, gocv.MorphOpen, p.kernelOpen)
	gocv.MorphologyEx(*m, m, gocv.MorphClose, p.kernelClos)
}

// regions are the blobs of mask the size of people: smaller than ~0.02 %
// of the frame is noise; larger than a third is a lighting change or the
// camera moving, not a person.
func (p *People) regions(mask gocv.Mat) []image.Rectangle {
	contours := gocv.FindContours(mask, gocv.RetrievalExternal, gocv.ChainApproxSimple)
	defer contours.Close()
	frameArea := float64(p.w * p.h)
	var out []image.Rectangle
	for i := range contours.Size() {
		r := gocv.BoundingRect(contours.At(i))
		a := float64(r.Dx() * r.Dy())
		if a < frameArea*0.0002 || a > frameArea/3 || r.Dy() < 4 {
			continue
		}
		out = append(out, r)
	}
	return out
}

// share is the fraction of r that mask covers.
func (p *People) share(mask gocv.Mat, r image.Rectangle) float64 {
	roi := mask.Region(r)
	defer roi.Close()
	return float64(gocv.CountNonZero(roi)) / float64(r.Dx()*r.Dy())
}

// continues reports whether r overlaps a person held from before.
func (p *People) continues(r image.Rectangle) bool {
	for _, st := range p.stills {
		if in := r.Intersect(st.r); !in.Empty() && in.Dx()*in.Dy() >= min(r.Dx()*r.Dy(), st.r.Dx()*st.r.Dy())/4 {
			return true
		}
	}
	return false
}
