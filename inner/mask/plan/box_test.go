package plan_test

import (
	"math"
	"reflect"
	"slices"
	"testing"

	"sealgate/inner/mask/plan"
)

// drawnAt is a box the reviewer drew on frame f.
func drawnAt(f, x, y, w, h int) plan.Box {
	return plan.Box{F: f, X: x, Y: y, W: w, H: h, By: plan.ByManual}
}

func TestCheckBox(t *testing.T) {
	for _, tc := range []struct {
		name string
		id   int
		box  plan.Box
		err  error
		msg  string
	}{
		{name: "a box on the track's frame", id: 2, box: drawnAt(15, 500, 300, 64, 64)},
		{name: "a box on another frame", id: 2, box: drawnAt(99, 0, 0, 64, 64)},
		{name: "the smallest box", id: 2, box: drawnAt(0, 0, 0, 8, 8)},
		{name: "in the far corner", id: 2, box: drawnAt(50, 1272, 712, 8, 8)},
		{name: "the whole frame", id: 2, box: drawnAt(50, 0, 0, 1280, 720)},
		{name: "too narrow", id: 2, box: drawnAt(50, 0, 0, 7, 8), err: plan.ErrBadBox, msg: "0,0 7×8 on frame 50 must be at least 8×8 and inside the 1280×720 frame of 100 frames"},
		{name: "too low", id: 2, box: drawnAt(50, 0, 0, 8, 7), err: plan.ErrBadBox, msg: "at least 8×8"},
		{name: "past the right edge", id: 2, box: drawnAt(50, 1273, 0, 8, 8), err: plan.ErrBadBox, msg: "1273,0 8×8"},
		{name: "past the bottom edge", id: 2, box: drawnAt(50, 0, 713, 8, 8), err: plan.ErrBadBox},
		{name: "left of the frame", id: 2, box: drawnAt(50, -1, 0, 8, 8), err: plan.ErrBadBox},
		{name: "above the frame", id: 2, box: drawnAt(50, 0, -1, 8, 8), err: plan.ErrBadBox},
		{name: "an overflowing box", id: 2, box: drawnAt(50, math.MaxInt-3, 0, 8, 8), err: plan.ErrBadBox},
		{name: "a frame past the clip", id: 2, box: drawnAt(100, 0, 0, 8, 8), err: plan.ErrBadBox, msg: "on frame 100"},
		{name: "a frame before the clip", id: 2, box: drawnAt(-1, 0, 0, 8, 8), err: plan.ErrBadBox},
		{name: "not drawn", id: 2, box: plan.Box{F: 50, W: 8, H: 8, By: plan.ByTracker}, err: plan.ErrBadBox, msg: `"tracker", not drawn`},
		{name: "a detection", id: 1, box: drawnAt(5, 10, 10, 50, 50), err: plan.ErrNotManual, msg: "a detection's boxes are not edited: leave track 1 unmasked as a false detection, or draw a box"},
		{name: "no such track", id: 101, box: drawnAt(5, 10, 10, 50, 50), err: plan.ErrNoTrack, msg: "101"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			edited(t, nil, tc.err, tc.msg, func(p *plan.Plan) error { return p.CheckBox(tc.id, tc.box) })
		})
	}
}

func TestSetBox(t *testing.T) {
	old := track(t, fixture(), 2).Boxes
	for _, tc := range []struct {
		name   string
		id     int
		box    plan.Box
		frames []int
		err    error
		msg    string
	}{
		{name: "move the drawn box", id: 2, box: drawnAt(15, 500, 300, 64, 64), frames: append(seq(10, 20), 30)},
		{name: "resize the first box", id: 2, box: drawnAt(10, 10, 20, 80, 90), frames: append(seq(10, 20), 30)},
		{name: "correct the last box", id: 2, box: drawnAt(30, 0, 0, 8, 8), frames: append(seq(10, 20), 30)},
		{name: "a frame in a gap", id: 2, box: drawnAt(25, 0, 0, 64, 64), frames: append(seq(10, 20), 25, 30)},
		{name: "a frame before the track", id: 2, box: drawnAt(3, 0, 0, 64, 64), frames: append(append([]int{3}, seq(10, 20)...), 30)},
		{name: "a frame after the track", id: 2, box: drawnAt(99, 0, 0, 64, 64), frames: append(seq(10, 20), 30, 99)},
		{name: "a bad box", id: 2, box: drawnAt(15, 1250, 10, 50, 50), err: plan.ErrBadBox, msg: "1250,10 50×50 on frame 15 must be at least 8×8 and inside the 1280×720 frame of 100 frames"},
		{name: "a detection", id: 1, box: drawnAt(5, 10, 10, 50, 50), err: plan.ErrNotManual, msg: "draw a box"},
		{name: "no such track", id: 3, box: drawnAt(5, 10, 10, 50, 50), err: plan.ErrNoTrack},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got plan.Track
			p := edited(t, nil, tc.err, tc.msg, func(p *plan.Plan) (err error) {
				got, err = p.SetBox(tc.id, tc.box)
				return err
			})
			if p == nil {
				return
			}
			if !reflect.DeepEqual(got, track(t, p, tc.id)) {
				t.Fatalf("returned %+v, the plan has %+v", got, track(t, p, tc.id))
			}
			if !slices.Equal(frames(t, p, tc.id), tc.frames) {
				t.Fatalf("frames %v, want %v", frames(t, p, tc.id), tc.frames)
			}
			for _, b := range got.Boxes { // only b.F changed
				want := tc.box
				if b.F != tc.box.F {
					want = old[slices.IndexFunc(old, func(o plan.Box) bool { return o.F == b.F })]
				}
				if b != want {
					t.Fatalf("frame %d: %+v, want %+v", b.F, b, want)
				}
			}
		})
	}
}

func TestRetrack(t *testing.T) {
	old := track(t, fixture(), 2).Boxes
	b := drawnAt(15, 500, 300, 64, 64)
	for _, tc := range []struct {
		name   string
		id     int
		box    plan.Box
		tail   []plan.Box
		frames []int
		err    error
		msg    string
	}{
		{name: "the tail replaces the rest", id: 2, box: b, tail: append([]plan.Box{b}, span(16, 40, plan.ByTracker)...), frames: seq(10, 40)},
		{name: "a shorter tail drops the rest", id: 2, box: b, tail: append([]plan.Box{b}, span(16, 18, plan.ByTracker)...), frames: seq(10, 18)},
		{name: "a tail without the corrected frame", id: 2, box: b, tail: span(16, 18, plan.ByTracker), frames: seq(10, 18)},
		{name: "the corrected box stands for the tail's", id: 2, box: b, tail: span(15, 18, plan.ByTracker), frames: seq(10, 18)},
		{name: "a lost subject ends the track at the box", id: 2, box: b, tail: nil, frames: seq(10, 16)},
		{name: "an unsorted tail is sorted", id: 2, box: b, tail: []plan.Box{span(17, 18, plan.ByTracker)[0], b, span(16, 17, plan.ByTracker)[0]}, frames: seq(10, 18)},
		{name: "from a frame before the track", id: 2, box: drawnAt(5, 0, 0, 64, 64), tail: span(6, 8, plan.ByTracker), frames: seq(5, 8)},
		{name: "from its last frame", id: 2, box: drawnAt(30, 0, 0, 64, 64), tail: span(31, 33, plan.ByTracker), frames: append(seq(10, 20), 30, 31, 32)},
		{name: "a tail before the box", id: 2, box: b, tail: span(14, 18, plan.ByTracker), err: plan.ErrBadBox, msg: "the tracker's box on frame 14 is before frame 15"},
		{name: "a tail outside the frame", id: 2, box: b, tail: []plan.Box{{F: 16, X: 1250, W: 50, H: 50, By: plan.ByTracker}}, err: plan.ErrBadBox, msg: "1250,0 50×50 on frame 16 is not inside the 1280×720 frame of 100 frames"},
		{name: "a tail past the clip", id: 2, box: b, tail: span(98, 101, plan.ByTracker), err: plan.ErrBadBox, msg: "on frame 100"},
		{name: "two tail boxes on a frame", id: 2, box: b, tail: append(span(16, 18, plan.ByTracker), span(17, 18, plan.ByTracker)...), err: plan.ErrBadBox, msg: "two boxes on frame 17"},
		{name: "a detector's box in the tail", id: 2, box: b, tail: span(16, 18, plan.ByDetector), err: plan.ErrBadBox, msg: `"detector"`},
		{name: "a bad box", id: 2, box: drawnAt(15, 0, 0, 4, 4), tail: span(16, 18, plan.ByTracker), err: plan.ErrBadBox, msg: "4×4 on frame 15 must be at least 8×8"},
		{name: "a detection", id: 1, box: drawnAt(5, 10, 10, 50, 50), tail: span(6, 8, plan.ByTracker), err: plan.ErrNotManual, msg: "draw a box"},
		{name: "no such track", id: 3, box: b, err: plan.ErrNoTrack},
	} {
		t.Run(tc.name, func(t *testing.T) {
			given := slices.Clone(tc.tail)
			var got plan.Track
			p := edited(t, nil, tc.err, tc.msg, func(p *plan.Plan) (err error) {
				got, err = p.Retrack(tc.id, tc.box, tc.tail)
				return err
			})
			if !slices.Equal(given, tc.tail) {
				t.Fatal("Retrack reordered the caller's tail")
			}
			if p == nil {
				return
			}
			if !reflect.DeepEqual(got, track(t, p, tc.id)) {
				t.Fatalf("returned %+v, the plan has %+v", got, track(t, p, tc.id))
			}
			if !slices.Equal(frames(t, p, tc.id), tc.frames) {
				t.Fatalf("frames %v, want %v", frames(t, p, tc.id), tc.frames)
			}
			for _, x := range got.Boxes {
				var want plan.Box
				switch {
				case x.F < tc.box.F: // kept
					want = old[slices.IndexFunc(old, func(o plan.Box) bool { return o.F == x.F })]
				case x.F == tc.box.F:
					want = tc.box
				default: // the tracker's
					want = tc.tail[slices.IndexFunc(tc.tail, func(o plan.Box) bool { return o.F == x.F })]
				}
				if x != want {
					t.Fatalf("frame %d: %+v, want %+v", x.F, x, want)
				}
			}
		})
	}
}
