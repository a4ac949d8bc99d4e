package detect

import (
	"image"

	"gocv.io/x/gocv"
)

// Plates localises licence plates without a trained model (none ships in
// any package we can install): a plate is a bright or dark rectangle of
// plate proportions densely filled with vertical character strokes. It is
// tuned for recall; a false box masks a little background.
type Plates struct {
	hatKernel, closeKernel, openKernel gocv.Mat
	bh, th, grad, mask                 gocv.Mat
}

// NewPlates returns the localiser.
func NewPlates() *Plates {
	return &Plates{
		hatKernel:   gocv.GetStructuringElement(gocv.MorphRect, image.Pt(15, 5)),
		closeKernel: gocv.GetStructuringElement(gocv.MorphRect, image.Pt(13, 3)),
		openKernel:  gocv.GetStructuringElement(gocv.MorphRect, image.Pt(3, 3)),
		bh:          gocv.NewMat(), th: gocv.NewMat(), grad: gocv.NewMat(), mask: gocv.NewMat(),
	}
}

// Close releases the buffers.
func (p *Plates) Close() {
	for _, m := range []*gocv.Mat{&p.hatKernel, &p.closeKernel, &p.openKernel, &p.bh, &p.th, &p.grad, &p.mask} {
		m.Close()
	}
}

// Detect returns plate-like regions of the small frame.
func (p *Plates) Detect(s *Small) []Box {
	gray := s.Gray()
	// Dark characters on a light plate (black-hat) and light on dark (top-hat).
	gocv.MorphologyEx(gray, &p.bh, gocv.MorphBlackhat, p.hatKernel)
	gocv.MorphologyEx(gray, &p.th, gocv.MorphTophat, p.hatKernel)
	gocv.Max(p.bh, p.th, &p.bh)
	// Character strokes are vertical edges close together.
	gocv.Sobel(p.bh, &p.grad, gocv.MatTypeCV16S, 1, 0, 3, 1, 0, gocv.BorderDefault)
	gocv.ConvertScaleAbs(p.grad, &p.grad, 1, 0)
	gocv.GaussianBlur(p.grad, &p.grad, image.Pt(5, 5), 0, 0, gocv.BorderDefault)
	gocv.MorphologyEx(p.grad, &p.grad, gocv.MorphClose, p.closeKernel)
	gocv.Threshold(p.grad, &p.mask, 0, 255, gocv.ThresholdBinary|gocv.ThresholdOtsu)
	gocv.MorphologyExWithParams(p.mask, &p.mask, gocv.MorphOpen, p.openKernel, 2, gocv.BorderDefault)
	contours := gocv.FindContours(p.mask, gocv.RetrievalExternal, gocv.ChainApproxSimple)
	defer contours.Close()
	var out []Box
	for i := range contours.Size() {
		c := contours.At(i)
		r := gocv.BoundingRect(c)
		w, h := r.Dx(), r.Dy()
		if h < 6 || w < 20 || w > s.W/2 || h > s.H/4 {
			continue
		}
		aspect := float64(w) / float64(h)
		// Korean plates are 520×110 mm (4.7:1) or 335×155 mm (2.2:1); allow
		// perspective and a margin either way.
		if aspect < 1.8 || aspect > 7.5 {
			continue
		}
		fill := gocv.ContourArea(c) / float64(w*h)
		if fill < 0.45 || !strokes(gray, r) {
			continue
		}
		out = append(out, Box{s.Full(r), fill})
	}
	return out
}

// strokes checks the middle row of r crosses at least six strong
// light/dark transitions: characters, not a plain bar or a shadow edge.
func strokes(gray gocv.Mat, r image.Rectangle) bool {
	y := (r.Min.Y + r.Max.Y) / 2
	lo, hi := 255, 0
	for x := r.Min.X; x < r.Max.X; x++ {
		v := int(gray.GetUCharAt(y, x))
		lo, hi = min(lo, v), max(hi, v)
	}
	if hi-lo < 40 {
		return false
	}
	mid := (lo + hi) / 2
	n, above := 0, int(gray.GetUCharAt(y, r.Min.X)) > mid
	for x := r.Min.X + 1; x < r.Max.X; x++ {
		if a := int(gray.GetUCharAt(y, x)) > mid; a != above {
			n++
			above = a
		}
	}
	return n >= 6
}
