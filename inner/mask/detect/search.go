package detect

import (
	"image"

	"gocv.io/x/gocv"
)

// NativeTile is the side, in full-frame pixels, of the crops the native
// pass looks at: 320 into the network's 256 is a scale of 0.8, so a face
// 20 px tall arrives at 16 px, which BlazeFace finds (docs/masking.md,
// "Small faces"). Crops of one grid overlap by a third, so any face up to
// about 100 px lies whole in one of them; larger faces are found by the
// whole-frame pass.
const NativeTile = 320

const tileStep = NativeTile * 2 / 3

// FaceSearch chooses, for each detection frame, where the face model looks
// at the source's own resolution. A whole 1080p frame is 45 such crops, too
// many for every detection frame, so it looks where faces can be: around
// the faces found last time (a face that stops is still looked at), where
// the picture moved since the last detection frame (a face that walks in),
// and over the whole frame on the first frame and then one crop at a time
// in turn (a face that was there before the clip began, standing still).
type FaceSearch struct {
	w, h   int
	grid   []image.Rectangle // the tiles over the whole frame
	next   int               // the sweep's next tile
	first  bool
	prev   gocv.Mat // the last detection frame's small luma
	diff   gocv.Mat
	kernel gocv.Mat
	faces  []image.Rectangle // found on the last detection frame
	moved  []image.Rectangle // where the picture moved on this one
}

// maxCrops bounds the crops around faces and motion on one detection frame
// (faces first), so a busy scene costs at most that many inferences (about
// 5 ms each) besides the sweep's one tile.
const maxCrops = 24

// NewFaceSearch plans searches over w×h frames.
func NewFaceSearch(w, h int) *FaceSearch {
	return &FaceSearch{w: w, h: h, grid: grid(image.Rect(0, 0, w, h)), first: true,
		prev: gocv.NewMat(), diff: gocv.NewMat(), kernel: gocv.GetStructuringElement(gocv.MorphEllipse, image.Pt(7, 7))}
}

// Close releases the buffers.
func (s *FaceSearch) Close() {
	s.prev.Close()
	s.diff.Close()
	s.kernel.Close()
}

// Regions returns the crops to search on the frame sm was loaded from.
//
// Where a face was or something moved, a face is reported from
// NativeThreshold (the tracker waits for three detections of a weak
// one); the sweep, which looks at still background where textures can
// look like a face, reports from FaceThreshold.
func (s *FaceSearch) Regions(sm *Small) []Crop {
	frame := image.Rect(0, 0, s.w, s.h)
	var wants []want
	for _, f := range s.faces {
		// The face and a face's width about it: where it can have
		// walked to by the next detection frame.
		side := max(f.Dx(), f.Dy())
		wants = append(wants, want{f.Inset(-side), min(1, faceArrives/float64(side))})
	}
	s.moved = s.motion(sm)
	for _, m := range s.moved {
		for _, r := range heads(m, frame) {
			wants = append(wants, want{r, 1})
		}
	}
	crops := pack(wants, frame)
	if s.first {
		s.first = false
		for _, g := range s.grid {
			crops = append(crops, Crop{g, FaceThreshold, 1})
		}
		return crops
	}
	crops = append(crops, Crop{s.grid[s.next], FaceThreshold, 1})
	s.next = (s.next + 1) % len(s.grid)
	return crops
}

// Found tells the search the faces found on this detection frame.
//
// A weak face is looked for again only where the picture moved: a face
// scores weakly as often as text or a texture does, and a weak detection
// that was looked at again would otherwise keep itself alive.
func (s *FaceSearch) Found(faces []Box) {
	s.faces = s.faces[:0]
	for _, f := range faces {
		if max(f.Dx(), f.Dy()) >= tileStep/2 {
			continue
		}
		if f.Score < FaceThreshold && !overlapsAny(f.Rectangle, s.moved) {
			continue
		}
		s.faces = append(s.faces, f.Rectangle)
	}
}

func overlapsAny(r image.Rectangle, rs []image.Rectangle) bool {
	for _, o := range rs {
		if r.Overlaps(o) {
			return true
		}
	}
	return false
}

// motion returns the boxes (full-frame pixels) where the small luma
// changed since the last detection frame; none when most of the picture
// did (a camera that pans or a light switched on: the sweep and the faces
// already found carry those frames).
func (s *FaceSearch) motion(sm *Small) []image.Rectangle {
	gray := sm.Gray()
	defer gray.CopyTo(&s.prev)
	if s.prev.Empty() || s.prev.Cols() != gray.Cols() || s.prev.Rows() != gray.Rows() {
		return nil
	}
	gocv.AbsDiff(gray, s.prev, &s.diff)
	gocv.Threshold(s.diff, &s.diff, 18, 255, gocv.ThresholdBinary)
	if gocv.CountNonZero(s.diff) > gray.Cols()*gray.Rows()/3 {
		return nil
	}
	gocv.Dilate(s.diff, &s.diff, s.kernel)
	contours := gocv.FindContours(s.diff, gocv.RetrievalExternal, gocv.ChainApproxSimple)
	defer contours.Close()
	var out []image.Rectangle
	for i := range contours.Size() {
		r := gocv.BoundingRect(contours.At(i))
		if r.Dx()*r.Dy() < 36 { // compression flicker
			continue
		}
		out = append(out, sm.Full(r))
	}
	return out
}

// MinCrop is the smallest crop side: BlazeFace reads a face by its
// surroundings too, and a crop no wider than the face finds it less often.
const MinCrop = 96

// faceArrives is the height, in network pixels, a face already found is
// looked at again with: a face found at 24–64 px is read at its own
// pixels, a larger one scaled down (at 32 and 48 the evaluation's 64 and
// 96 px faces went unmasked for 4–6 frames running at 720p; at 64, none).
const faceArrives = 64

// A want is a region to look for faces in and the scale (network pixels
// per frame pixel, at most 1) it needs.
type want struct {
	image.Rectangle
	scale float64
}

// pack turns wants into as few network pixels as it can: a want joins a
// crop already taken when the crop that holds both costs no more than
// the two apart (inference time follows the network's pixels) and still
// fits the network at the finer scale. Crops are at least MinCrop, and at
// most maxCrops are taken (the first wants first).
func pack(wants []want, frame image.Rectangle) []Crop {
	cost := func(r image.Rectangle, scale float64) float64 {
		s := max(r.Dx(), MinCrop, r.Dy()) // a crop smaller than MinCrop is grown to it
		return float64(s*s) * scale * scale
	}
	var taken []want
	for _, w := range wants {
		w.Rectangle = w.Intersect(frame)
		if w.Empty() {
			continue
		}
		best, bestGain := -1, 0.0
		for i, c := range taken {
			u, scale := c.Union(w.Rectangle), max(c.scale, w.scale)
			if float64(max(u.Dx(), u.Dy()))*scale > bfSize {
				continue
			}
			if gain := cost(c.Rectangle, c.scale) + cost(w.Rectangle, w.scale) - cost(u, scale); gain >= 0 && (best < 0 || gain > bestGain) {
				best, bestGain = i, gain
			}
		}
		if best >= 0 {
			taken[best] = want{taken[best].Union(w.Rectangle), max(taken[best].scale, w.scale)}
			continue
		}
		if len(taken) < maxCrops {
			taken = append(taken, w)
		}
	}
	crops := make([]Crop, len(taken))
	for i, c := range taken {
		crops[i] = Crop{atLeast(c.Rectangle, MinCrop, frame), NativeThreshold, c.scale}
	}
	return crops
}

// heads are the regions where the head of whoever moved in m can be: the
// top of the region, as tall as it is wide (a walking person's head is at
// the top of their silhouette); a region wider than a tile is covered by
// tiles along its top.
func heads(m image.Rectangle, frame image.Rectangle) []image.Rectangle {
	m = m.Inset(-max(8, m.Dx()/8))
	if m.Dx() <= NativeTile {
		return []image.Rectangle{image.Rect(m.Min.X, m.Min.Y, m.Max.X, m.Min.Y+min(m.Dy(), m.Dx())).Intersect(frame)}
	}
	return grid(image.Rect(m.Min.X, m.Min.Y, m.Max.X, m.Min.Y+min(m.Dy(), NativeTile)).Intersect(frame))
}

// grid covers r with tiles of NativeTile overlapping by a third.
func grid(r image.Rectangle) []image.Rectangle {
	starts := func(lo, hi int) []int {
		if hi-lo <= NativeTile {
			return []int{lo}
		}
		n := (hi-lo-NativeTile+tileStep-1)/tileStep + 1
		out := make([]int, n)
		for i := range n {
			out[i] = lo + i*(hi-lo-NativeTile)/(n-1)
		}
		return out
	}
	var out []image.Rectangle
	for _, y := range starts(r.Min.Y, r.Max.Y) {
		for _, x := range starts(r.Min.X, r.Max.X) {
			out = append(out, image.Rect(x, y, x+NativeTile, y+NativeTile).Intersect(r))
		}
	}
	return out
}

// atLeast grows c about its centre to side×side where it is smaller,
// staying inside frame.
func atLeast(c image.Rectangle, side int, frame image.Rectangle) image.Rectangle {
	grow := func(lo, hi, floor, ceil int) (int, int) {
		if hi-lo >= side {
			return lo, hi
		}
		lo = max(floor, min(lo-(side-(hi-lo))/2, ceil-side))
		return lo, min(lo+side, ceil)
	}
	x0, x1 := grow(c.Min.X, c.Max.X, frame.Min.X, frame.Max.X)
	y0, y1 := grow(c.Min.Y, c.Max.Y, frame.Min.Y, frame.Max.Y)
	return image.Rect(x0, y0, x1, y1)
}
