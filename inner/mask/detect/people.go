package detect

import (
	"image"

	"gocv.io/x/gocv"
)

// People finds moving people on a fixed camera: a Gaussian-mixture
// background model, shadows dropped, blobs closed into bodies. Far from the
// camera a face is a few pixels that no face detector finds; the whole body
// is masked instead.
type People struct {
	mog        gocv.BackgroundSubtractorMOG2
	small      gocv.Mat
	fg         gocv.Mat
	kernelOpen gocv.Mat
	kernelClos gocv.Mat
	width      int
	frames     int
}

// peopleWidth is the width the background model runs at: people 40 px tall
// in a 1080p frame are still 10 px here, and the model costs ~2 ms a frame.
const peopleWidth = 480

// NewPeople returns a detector; feed it every frame (or every other) in order.
func NewPeople() *People {
	return &People{
		// A long history keeps people who stop for a while from fading into
		// the background (2,000 frames at 10–30 fps is 1–3 minutes).
		mog:        gocv.NewBackgroundSubtractorMOG2WithParams(2000, 12, true),
		small:      gocv.NewMat(),
		fg:         gocv.NewMat(),
		kernelOpen: gocv.GetStructuringElement(gocv.MorphEllipse, image.Pt(3, 3)),
		kernelClos: gocv.GetStructuringElement(gocv.MorphEllipse, image.Pt(5, 9)),
	}
}

// Close releases the model.
func (p *People) Close() {
	p.mog.Close()
	p.small.Close()
	p.fg.Close()
	p.kernelOpen.Close()
	p.kernelClos.Close()
}

// Detect updates the background model with s and returns moving blobs the
// size and shape of people. The first frames only train the model.
func (p *People) Detect(s *Small) []Box {
	gray := s.Gray()
	w := min(peopleWidth, s.W)
	h := max(2, s.H*w/s.W)
	gocv.Resize(gray, &p.small, image.Pt(w, h), 0, 0, gocv.InterpolationArea)
	p.mog.Apply(p.small, &p.fg)
	p.frames++
	if p.frames < 5 {
		return nil
	}
	// 255 is foreground, 127 shadow: keep foreground only.
	gocv.Threshold(p.fg, &p.fg, 200, 255, gocv.ThresholdBinary)
	gocv.MorphologyEx(p.fg, &p.fg, gocv.MorphOpen, p.kernelOpen)
	gocv.MorphologyEx(p.fg, &p.fg, gocv.MorphClose, p.kernelClos)
	contours := gocv.FindContours(p.fg, gocv.RetrievalExternal, gocv.ChainApproxSimple)
	defer contours.Close()
	var out []Box
	frameArea := float64(w * h)
	k := float64(s.W) / float64(w)
	for i := range contours.Size() {
		c := contours.At(i)
		r := gocv.BoundingRect(c)
		area := float64(r.Dx() * r.Dy())
		// Smaller than ~0.02% of the frame is noise; larger than a third is a
		// lighting change or the camera moving, not a person.
		if area < frameArea*0.0002 || area > frameArea/3 || r.Dy() < 4 {
			continue
		}
		small := image.Rect(int(float64(r.Min.X)*k), int(float64(r.Min.Y)*k), int(float64(r.Max.X)*k+0.999), int(float64(r.Max.Y)*k+0.999))
		out = append(out, Box{s.Full(small), gocv.ContourArea(c) / area})
	}
	return out
}
