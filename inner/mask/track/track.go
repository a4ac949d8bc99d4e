// Package track turns per-frame detections into tracks and then into a box
// on every frame a subject is in view: detections are associated across
// frames, gaps between them are filled by interpolation, and every track is
// padded a few frames before its first and after its last detection, so a
// face is never shown for a frame or two while a detector hesitates.
//
// It works on a stream with a fixed lookahead: the boxes of frame f are
// final once frames up to f+Delay() have been added, so the render pass can
// follow the analysis a bounded number of frames behind (memory stays flat
// on long clips).
package track

import (
	"sort"

	"sealgate/inner/mask/plan"
)

// Det is one detection on one frame.
type Det struct {
	Kind       string
	X, Y, W, H int
	Score      float64
}

// Config tunes association and padding, in frames.
type Config struct {
	// MaxGap is the longest run of frames without a detection that a track
	// bridges; longer, and the subject is taken to have left.
	MaxGap int
	// Pad is the number of frames masked before the first and after the
	// last detection.
	Pad int
	// Confirm is, per kind, the score from which one detection makes a
	// track; a track of weaker ones is masked once it has three (a face far
	// away scores low, and so does a texture that looks like one for a
	// frame). Kinds not named need no second detection.
	Confirm map[string]float64
}

// Out is a box on one frame.
type Out struct {
	TrackID int
	Kind    string
	Box     plan.Box
}

type key struct {
	f          int
	x, y, w, h float64
}

type trk struct {
	id   int
	kind string
	keys []key
	best float64 // the highest score of its detections
	dead bool
}

// confirmed reports whether the track is masked.
func (t *trk) confirmed(confirm map[string]float64) bool {
	return t.best >= confirm[t.kind] || len(t.keys) >= 3
}

func (t *trk) last() key { return t.keys[len(t.keys)-1] }

// predict is where the track's box is expected on frame f (constant velocity
// from its last two detections).
func (t *trk) predict(f int) key {
	if len(t.keys) < 2 {
		return t.last()
	}
	return extrapolate(t.keys[len(t.keys)-2], t.last(), f)
}

// before is where the track's box was on frame f before its first
// detection (constant velocity from its first two): a subject walking in is
// padded where it was, not where it was first seen.
func (t *trk) before(f int) key {
	if len(t.keys) < 2 {
		return t.keys[0]
	}
	return extrapolate(t.keys[1], t.keys[0], f)
}

// extrapolate carries the motion from p to k on to frame f.
func extrapolate(p, k key, f int) key {
	s := float64(f-k.f) / float64(k.f-p.f)
	return key{f, k.x + (k.x-p.x)*s, k.y + (k.y-p.y)*s, k.w, k.h}
}

// Tracker associates detections into tracks.
type Tracker struct {
	cfg      Config
	width    int
	height   int
	nextID   int
	tracks   []*trk // alive, or dead with boxes still to emit
	frontier int    // highest frame added
	emitted  int    // next frame to emit
}

// New returns a tracker for frames of w×h.
func New(cfg Config, w, h int) *Tracker {
	cfg.MaxGap = max(cfg.MaxGap, 1)
	cfg.Pad = max(cfg.Pad, 0)
	return &Tracker{cfg: cfg, width: w, height: h, nextID: 1, frontier: -1}
}

// Delay is how many frames past f must be added before f's boxes are final.
func (t *Tracker) Delay() int { return t.cfg.MaxGap + t.cfg.Pad + 1 }

// Add records frame f's detections (frames must come in increasing order;
// frames that were not analysed may be skipped).
func (t *Tracker) Add(f int, dets []Det) {
	t.frontier = max(t.frontier, f)
	for _, tr := range t.tracks {
		if !tr.dead && f-tr.last().f > t.cfg.MaxGap {
			tr.dead = true
		}
	}
	type pair struct {
		ti, di int
		score  float64
	}
	var pairs []pair
	for ti, tr := range t.tracks {
		if tr.dead {
			continue
		}
		p := tr.predict(f)
		for di, d := range dets {
			if d.Kind != tr.kind {
				continue
			}
			if s := affinity(p, d); s > 0 {
				pairs = append(pairs, pair{ti, di, s})
			}
		}
	}
	sort.SliceStable(pairs, func(i, j int) bool { return pairs[i].score > pairs[j].score })
	usedT := make(map[int]bool)
	usedD := make(map[int]bool)
	for _, p := range pairs {
		if usedT[p.ti] || usedD[p.di] {
			continue
		}
		usedT[p.ti], usedD[p.di] = true, true
		d := dets[p.di]
		tr := t.tracks[p.ti]
		tr.keys = append(tr.keys, key{f, float64(d.X), float64(d.Y), float64(d.W), float64(d.H)})
		tr.best = max(tr.best, d.Score)
	}
	for di, d := range dets {
		if usedD[di] {
			continue
		}
		t.tracks = append(t.tracks, &trk{id: t.nextID, kind: d.Kind, best: d.Score, keys: []key{{f, float64(d.X), float64(d.Y), float64(d.W), float64(d.H)}}})
		t.nextID++
	}
}

// affinity scores how well detection d continues a track predicted at p:
// overlap, or for small fast subjects centre distance within twice their
// size (a face 24 px tall walking across a street moves its own size
// between two detection frames).
func affinity(p key, d Det) float64 {
	ax0, ay0, ax1, ay1 := p.x, p.y, p.x+p.w, p.y+p.h
	bx0, by0, bx1, by1 := float64(d.X), float64(d.Y), float64(d.X+d.W), float64(d.Y+d.H)
	iw := min(ax1, bx1) - max(ax0, bx0)
	ih := min(ay1, by1) - max(ay0, by0)
	if iw > 0 && ih > 0 {
		inter := iw * ih
		iou := inter / (p.w*p.h + float64(d.W*d.H) - inter)
		if iou > 0.1 {
			return 1 + iou
		}
	}
	dx := (ax0 + ax1 - bx0 - bx1) / 2
	dy := (ay0 + ay1 - by0 - by1) / 2
	size := 2 * max(p.w, p.h, float64(d.W), float64(d.H))
	ratio := max(p.w*p.h, float64(d.W*d.H)) / max(min(p.w*p.h, float64(d.W*d.H)), 1)
	if dist2 := dx*dx + dy*dy; dist2 < size*size && ratio < 4 {
		return 1 - dist2/(size*size)
	}
	return 0
}

// Emit returns the boxes of every frame that is final and not yet emitted,
// in frame order, calling fn per frame (fn gets no call for frames with
// nothing to mask). With final set, every remaining frame up to frames-1 is
// emitted (the end of the clip).
func (t *Tracker) Emit(frames int, final bool, fn func(f int, outs []Out)) {
	limit := t.frontier - t.Delay()
	if final {
		limit = frames - 1
		for _, tr := range t.tracks {
			tr.dead = true
		}
	}
	var outs []Out
	for ; t.emitted <= limit && t.emitted < frames; t.emitted++ {
		f := t.emitted
		outs = outs[:0]
		live := t.tracks[:0]
		for _, tr := range t.tracks {
			if b, ok := t.boxAt(tr, f); ok && tr.confirmed(t.cfg.Confirm) {
				outs = append(outs, Out{TrackID: tr.id, Kind: tr.kind, Box: b})
			}
			if !(tr.dead && tr.last().f+t.cfg.Pad <= f) {
				live = append(live, tr)
			}
		}
		clear(t.tracks[len(live):])
		t.tracks = live
		if len(outs) > 0 {
			fn(f, outs)
		}
	}
}

// boxAt is the track's box on frame f, if the track covers f.
func (t *Tracker) boxAt(tr *trk, f int) (plan.Box, bool) {
	first, last := tr.keys[0], tr.last()
	switch {
	case f < first.f-t.cfg.Pad || f > last.f+t.cfg.Pad:
		return plan.Box{}, false
	case f < first.f:
		return t.box(f, tr.before(f), plan.ByPadding), true
	case f > last.f:
		if !tr.dead {
			return plan.Box{}, false // cannot happen for final frames; be safe
		}
		return t.box(f, tr.predict(f), plan.ByPadding), true
	}
	i := sort.Search(len(tr.keys), func(i int) bool { return tr.keys[i].f >= f })
	k := tr.keys[i]
	if k.f == f {
		return t.box(f, k, plan.ByDetector), true
	}
	a := tr.keys[i-1]
	s := float64(f-a.f) / float64(k.f-a.f)
	lerp := func(u, v float64) float64 { return u + (v-u)*s }
	return t.box(f, key{f, lerp(a.x, k.x), lerp(a.y, k.y), lerp(a.w, k.w), lerp(a.h, k.h)}, plan.ByInterpolated), true
}

// box rounds outward and clips to the frame.
func (t *Tracker) box(f int, k key, by string) plan.Box {
	x0 := max(0, int(k.x))
	y0 := max(0, int(k.y))
	x1 := min(t.width, int(k.x+k.w+0.999))
	y1 := min(t.height, int(k.y+k.h+0.999))
	if x1 <= x0 {
		x0, x1 = min(x0, t.width-1), min(x0, t.width-1)+1
	}
	if y1 <= y0 {
		y0, y1 = min(y0, t.height-1), min(y0, t.height-1)+1
	}
	return plan.Box{F: f, X: x0, Y: y0, W: x1 - x0, H: y1 - y0, By: by}
}

// Final is the first frame whose boxes are not yet final: every frame
// before it has been emitted.
func (t *Tracker) Final() int { return t.emitted }
