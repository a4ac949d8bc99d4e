package detect

import (
	"image"

	"gocv.io/x/gocv"
)

// Plates localises licence plates without a trained model (none ships in
// any package we can install): a plate is a bright or dark rectangle of
// plate proportions densely filled with character strokes. It looks at the
// small copy and at half of it, because its kernels fit characters of one
// size: a plate close to the camera has strokes too far apart to join at
// the first level. It is tuned for recall; a false box masks a little
// background.
type Plates struct {
	hatKernel, closeKernel, openKernel gocv.Mat
	half, bh, th, grad, mask           gocv.Mat
}

// strokeFloor is the stroke response (blurred horizontal gradient of the
// black-hat/top-hat image, 0–255) that always counts as character-like.
// Chosen on TestPlateRecallOnComposites: on a frame of it a 45 px wide
// yellow plate's characters averaged 46 while Otsu asked for 50 (the whole
// frame averages 19); 30 and 45 both lost plates there.
const strokeFloor = 38

// NewPlates returns the localiser.
func NewPlates() *Plates {
	return &Plates{
		hatKernel:   gocv.GetStructuringElement(gocv.MorphRect, image.Pt(15, 5)),
		closeKernel: gocv.GetStructuringElement(gocv.MorphRect, image.Pt(13, 3)),
		openKernel:  gocv.GetStructuringElement(gocv.MorphRect, image.Pt(3, 3)),
		half:        gocv.NewMat(), bh: gocv.NewMat(), th: gocv.NewMat(), grad: gocv.NewMat(), mask: gocv.NewMat(),
	}
}

// Close releases the buffers.
func (p *Plates) Close() {
	for _, m := range []*gocv.Mat{&p.hatKernel, &p.closeKernel, &p.openKernel, &p.half, &p.bh, &p.th, &p.grad, &p.mask} {
		m.Close()
	}
}

// Detect returns plate-like regions of the small frame.
func (p *Plates) Detect(s *Small) []Box {
	gray := s.Gray()
	found := p.candidates(gray, 1, nil)
	if s.W >= 160 {
		gocv.Resize(gray, &p.half, image.Pt(s.W/2, s.H/2), 0, 0, gocv.InterpolationArea)
		found = p.candidates(p.half, 2, found)
	}
	found = mergePlates(found)
	out := make([]Box, len(found))
	for i, c := range found {
		// Often only the taller lower line of a two-line plate is found:
		// cover the line above it too (on a one-line plate this masks a
		// strip of bumper).
		r := c.Rectangle
		r.Min.Y -= r.Dy() * 2 / 5
		out[i] = Box{s.Full(r), c.Score}
	}
	return out
}

// candidates appends the plate-like regions of img, in small-copy pixels
// (img is the small copy scaled down by f).
func (p *Plates) candidates(img gocv.Mat, f int, out []Box) []Box {
	w, h := img.Cols(), img.Rows()
	// Dark characters on a light plate (black-hat) and light on dark (top-hat).
	gocv.MorphologyEx(img, &p.bh, gocv.MorphBlackhat, p.hatKernel)
	gocv.MorphologyEx(img, &p.th, gocv.MorphTophat, p.hatKernel)
	gocv.Max(p.bh, p.th, &p.bh)
	// Character strokes are vertical edges close together.
	gocv.Sobel(p.bh, &p.grad, gocv.MatTypeCV16S, 1, 0, 3, 1, 0, gocv.BorderDefault)
	gocv.ConvertScaleAbs(p.grad, &p.grad, 1, 0)
	gocv.GaussianBlur(p.grad, &p.grad, image.Pt(5, 5), 0, 0, gocv.BorderDefault)
	gocv.MorphologyEx(p.grad, &p.grad, gocv.MorphClose, p.closeKernel)
	// Otsu's threshold splits the frame's stroke response in two, but a
	// frame full of stronger edges (people, a car's outline) pushes it above
	// what small plate characters give: never demand more than the floor.
	if otsu := gocv.Threshold(p.grad, &p.mask, 0, 255, gocv.ThresholdBinary|gocv.ThresholdOtsu); otsu > strokeFloor {
		gocv.Threshold(p.grad, &p.mask, strokeFloor, 255, gocv.ThresholdBinary)
	}
	gocv.MorphologyExWithParams(p.mask, &p.mask, gocv.MorphOpen, p.openKernel, 2, gocv.BorderDefault)
	contours := gocv.FindContours(p.mask, gocv.RetrievalExternal, gocv.ChainApproxSimple)
	defer contours.Close()
	for i := range contours.Size() {
		c := contours.At(i)
		r := gocv.BoundingRect(c)
		rw, rh := r.Dx(), r.Dy()
		if rh < 6 || rw < 20 || rw > w/2 || rh > h/4 {
			continue
		}
		aspect := float64(rw) / float64(rh)
		// Korean plates are 520×110 mm (4.7:1) or 335×155 mm (2.2:1), and
		// one line of a two-line plate is longer still; allow perspective
		// and a margin either way.
		if aspect < 1.8 || aspect > 7.5 {
			continue
		}
		fill := gocv.ContourArea(c) / float64(rw*rh)
		if fill < 0.45 || !strokes(img, r) {
			continue
		}
		out = append(out, Box{image.Rect(r.Min.X*f, r.Min.Y*f, r.Max.X*f, r.Max.Y*f), fill})
	}
	return out
}

// strokes checks that a row through r crosses at least ten strong
// light/dark transitions: a plate has five or more characters in a line,
// each crossed at least twice; a plain bar, a shadow edge or a short
// texture has fewer.
// Rows at a third, half and two thirds of the height are tried, because a
// region may be a whole two-line plate whose middle falls between lines.
func strokes(gray gocv.Mat, r image.Rectangle) bool {
	for _, y := range []int{r.Min.Y + r.Dy()/2, r.Min.Y + r.Dy()/3, r.Min.Y + 2*r.Dy()/3} {
		lo, hi := 255, 0
		for x := r.Min.X; x < r.Max.X; x++ {
			v := int(gray.GetUCharAt(y, x))
			lo, hi = min(lo, v), max(hi, v)
		}
		if hi-lo < 40 {
			continue
		}
		mid := (lo + hi) / 2
		n, above := 0, int(gray.GetUCharAt(y, r.Min.X)) > mid
		for x := r.Min.X + 1; x < r.Max.X; x++ {
			if a := int(gray.GetUCharAt(y, x)) > mid; a != above {
				n++
				above = a
			}
		}
		if n >= 10 {
			return true
		}
	}
	return false
}

// mergePlates joins regions that overlap (the same plate found at both
// levels) or sit one above the other like the two lines of an old plate,
// until no two do.
func mergePlates(bs []Box) []Box {
	for merged := true; merged; {
		merged = false
		for i := 0; i < len(bs) && !merged; i++ {
			for j := i + 1; j < len(bs); j++ {
				if bs[i].Overlaps(bs[j].Rectangle) || plateLines(bs[i].Rectangle, bs[j].Rectangle) {
					bs[i] = Box{bs[i].Union(bs[j].Rectangle), max(bs[i].Score, bs[j].Score)}
					bs = append(bs[:j], bs[j+1:]...)
					merged = true
					break
				}
			}
		}
	}
	return bs
}

// plateLines reports whether a and b look like the two lines of one plate:
// mostly overlapping across, with a vertical gap under half a line.
func plateLines(a, b image.Rectangle) bool {
	across := min(a.Max.X, b.Max.X) - max(a.Min.X, b.Min.X)
	gap := max(a.Min.Y, b.Min.Y) - min(a.Max.Y, b.Max.Y)
	return across*2 >= min(a.Dx(), b.Dx()) && gap*2 <= min(a.Dy(), b.Dy())
}
