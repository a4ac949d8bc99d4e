package plan_test

import (
	"errors"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"

	"sealgate/inner/mask/plan"
)

// span is one box a frame on frames [from, to), each a little to the right
// of the one before, so that a box out of place shows.
func span(from, to int, by string) []plan.Box {
	var out []plan.Box
	for f := from; f < to; f++ {
		out = append(out, plan.Box{F: f, X: 10 + f, Y: 20, W: 40, H: 40, By: by})
	}
	return out
}

// fixture is a 100-frame 1280×720 plan: detection 1 on frames 0..9, drawn
// track 2 on frames 10..19 and 30 (drawn on 15), and detection 4 on frames
// 5..14 left unmasked as the subject.
func fixture() *plan.Plan {
	drawn := append(span(10, 20, plan.ByTracker), span(30, 31, plan.ByTracker)...)
	drawn[5].By = plan.ByManual
	return &plan.Plan{Version: plan.Version, Width: 1280, Height: 720, Frames: 100, Style: plan.StyleMosaic, Margin: 0.15,
		Tracks: []plan.Track{
			{ID: 1, Kind: plan.KindFace, Source: plan.SourceAuto, Boxes: span(0, 10, plan.ByDetector)},
			{ID: 2, Kind: plan.KindManual, Source: plan.SourceManual, Boxes: drawn},
			{ID: 4, Kind: plan.KindPlate, Source: plan.SourceAuto, Excluded: true, Reason: plan.ReasonSubject, Boxes: span(5, 15, plan.ByDetector)},
		}}
}

// edited runs edit on a clone of base() (the fixture if nil) and checks what
// every edit keeps: the plan cloned from is never touched; a refusal is
// the wanted sentinel, says msg, and leaves the clone as it was; a success
// leaves a plan that validates. It returns the edited clone, nil if refused.
func edited(t *testing.T, base func() *plan.Plan, wantErr error, msg string, edit func(*plan.Plan) error) *plan.Plan {
	t.Helper()
	if base == nil {
		base = fixture
	}
	orig := base()
	p := orig.Clone()
	err := edit(p)
	if !reflect.DeepEqual(orig, base()) {
		t.Fatal("the edit changed the plan it was cloned from")
	}
	if wantErr != nil {
		if !errors.Is(err, wantErr) {
			t.Fatalf("error %v, want %v", err, wantErr)
		}
		if !strings.HasPrefix(err.Error(), "plan: ") || !strings.Contains(err.Error(), msg) {
			t.Fatalf("error %q, want the plan: prefix and %q", err, msg)
		}
		if !reflect.DeepEqual(p, base()) {
			t.Fatal("a refused edit changed the draft")
		}
		return nil
	}
	if err != nil {
		t.Fatalf("refused: %v", err)
	}
	if err := p.Validate(); err != nil {
		t.Fatalf("the edited plan does not validate: %v", err)
	}
	return p
}

// track is track id of p, failing the test if there is none.
func track(t *testing.T, p *plan.Plan, id int) plan.Track {
	t.Helper()
	for _, tr := range p.Tracks {
		if tr.ID == id {
			return tr
		}
	}
	t.Fatalf("no track %d", id)
	return plan.Track{}
}

// frames is the frames track id of p has boxes on.
func frames(t *testing.T, p *plan.Plan, id int) []int {
	t.Helper()
	var out []int
	for _, b := range track(t, p, id).Boxes {
		out = append(out, b.F)
	}
	return out
}

func ids(p *plan.Plan) []int {
	var out []int
	for _, tr := range p.Tracks {
		out = append(out, tr.ID)
	}
	return out
}

func seq(from, to int) []int {
	var out []int
	for f := from; f < to; f++ {
		out = append(out, f)
	}
	return out
}

func TestAddManual(t *testing.T) {
	drawn := plan.Box{F: 50, X: 600, Y: 300, W: 64, H: 64, By: plan.ByManual}
	carried := func(f int) plan.Box { b := drawn; b.F, b.X, b.By = f, 600+f-50, plan.ByTracker; return b }
	full := func() *plan.Plan {
		p := fixture()
		for id := 5; len(p.Tracks) < plan.MaxTracks; id++ {
			p.Tracks = append(p.Tracks, plan.Track{ID: id, Kind: plan.KindFace, Source: plan.SourceAuto, Boxes: []plan.Box{{F: 0, W: 8, H: 8, By: plan.ByDetector}}})
		}
		return p
	}
	lastID := func() *plan.Plan {
		p := fixture()
		p.Tracks[2].ID = math.MaxInt
		return p
	}
	for _, tc := range []struct {
		name   string
		base   func() *plan.Plan
		boxes  []plan.Box
		frames []int
		err    error
		msg    string
	}{
		{name: "drawn and tracked both ways, sorted", boxes: []plan.Box{drawn, carried(52), carried(49), carried(51)}, frames: []int{49, 50, 51, 52}},
		{name: "the drawn box alone", boxes: []plan.Box{drawn}, frames: []int{50}},
		{name: "a tracked box shrunk at the edge", boxes: []plan.Box{drawn, {F: 51, X: 1277, Y: 0, W: 3, H: 3, By: plan.ByTracker}}, frames: []int{50, 51}},
		{name: "the whole frame", boxes: []plan.Box{{F: 99, W: 1280, H: 720, By: plan.ByManual}}, frames: []int{99}},
		{name: "no boxes", boxes: nil, err: plan.ErrBadBox, msg: "at least one box"},
		{name: "outside the frame", boxes: []plan.Box{drawn, {F: 51, X: 1250, Y: 10, W: 50, H: 50, By: plan.ByTracker}}, err: plan.ErrBadBox, msg: "1250,10 50×50 on frame 51 is not inside the 1280×720 frame of 100 frames"},
		{name: "an overflowing box", boxes: []plan.Box{{F: 50, X: math.MaxInt - 3, W: 8, H: 8, By: plan.ByManual}}, err: plan.ErrBadBox, msg: "not inside"},
		{name: "a frame past the clip", boxes: []plan.Box{drawn, carried(100)}, err: plan.ErrBadBox, msg: "on frame 100"},
		{name: "a frame before the clip", boxes: []plan.Box{drawn, carried(-1)}, err: plan.ErrBadBox, msg: "on frame -1"},
		{name: "two boxes on a frame", boxes: []plan.Box{drawn, carried(51), carried(51)}, err: plan.ErrBadBox, msg: "two boxes on frame 51"},
		{name: "a detector's box", boxes: []plan.Box{drawn, {F: 51, X: 10, Y: 10, W: 50, H: 50, By: plan.ByDetector}}, err: plan.ErrBadBox, msg: `"detector"`},
		{name: "the plan is full", base: full, boxes: []plan.Box{drawn}, err: plan.ErrTooManyTracks, msg: "at most 200000"},
		{name: "no id is left", base: lastID, boxes: []plan.Box{drawn}, err: plan.ErrTooManyTracks},
	} {
		t.Run(tc.name, func(t *testing.T) {
			given := slices.Clone(tc.boxes)
			var got plan.Track
			p := edited(t, tc.base, tc.err, tc.msg, func(p *plan.Plan) (err error) {
				got, err = p.AddManual(tc.boxes)
				return err
			})
			if !slices.Equal(given, tc.boxes) {
				t.Fatal("AddManual reordered the caller's boxes")
			}
			if p == nil {
				return
			}
			if got.ID != 5 || got.Kind != plan.KindManual || got.Source != plan.SourceManual || got.Excluded {
				t.Fatalf("added %+v, want manual track 5, masked", got)
			}
			if !reflect.DeepEqual(track(t, p, 5), got) || !slices.Equal(frames(t, p, 5), tc.frames) {
				t.Fatalf("track 5 is on frames %v, want %v", frames(t, p, 5), tc.frames)
			}
			if !slices.Equal(ids(p), []int{1, 2, 4, 5}) {
				t.Fatalf("tracks %v", ids(p))
			}
		})
	}
}

func TestExclude(t *testing.T) {
	for _, tc := range []struct {
		name   string
		id     int
		reason string
		err    error
		msg    string
	}{
		{name: "a detection is the subject", id: 1, reason: plan.ReasonSubject},
		{name: "a detection is not sensitive", id: 1, reason: plan.ReasonNotSensitive},
		{name: "a drawn track is the subject", id: 2, reason: plan.ReasonSubject},
		{name: "the subject becomes a false detection", id: 4, reason: plan.ReasonNotSensitive},
		{name: "the subject again", id: 4, reason: plan.ReasonSubject},
		{name: "a drawn track is not a false detection", id: 2, reason: plan.ReasonNotSensitive, err: plan.ErrBadReason, msg: "track 2 was drawn, not detected: delete it"},
		{name: "an unknown reason", id: 1, reason: "blurry", err: plan.ErrBadReason, msg: `"blurry": a track is left unmasked as subject (the data subject) or not_sensitive (a false detection)`},
		{name: "no reason", id: 1, reason: "", err: plan.ErrBadReason, msg: `""`},
		{name: "mask is not a reason", id: 4, reason: "mask", err: plan.ErrBadReason},
		{name: "no such track", id: 3, reason: plan.ReasonSubject, err: plan.ErrNoTrack, msg: "no such track: 3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := edited(t, nil, tc.err, tc.msg, func(p *plan.Plan) error { return p.Exclude(tc.id, tc.reason) })
			if p == nil {
				return
			}
			if tr := track(t, p, tc.id); !tr.Excluded || tr.Reason != tc.reason {
				t.Fatalf("track %d: excluded %v, reason %q", tc.id, tr.Excluded, tr.Reason)
			}
			if !reflect.DeepEqual(track(t, p, tc.id).Boxes, track(t, fixture(), tc.id).Boxes) {
				t.Fatal("leaving a track unmasked changed its boxes")
			}
		})
	}
}

func TestInclude(t *testing.T) {
	for _, tc := range []struct {
		name string
		id   int
		err  error
		msg  string
	}{
		{name: "mask the subject again", id: 4},
		{name: "a masked track stays masked", id: 1},
		{name: "a drawn track", id: 2},
		{name: "no such track", id: 9, err: plan.ErrNoTrack, msg: "9"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := edited(t, nil, tc.err, tc.msg, func(p *plan.Plan) error { return p.Include(tc.id) })
			if p == nil {
				return
			}
			if tr := track(t, p, tc.id); tr.Excluded || tr.Reason != "" {
				t.Fatalf("track %d: excluded %v, reason %q", tc.id, tr.Excluded, tr.Reason)
			}
		})
	}
}

func TestDelete(t *testing.T) {
	for _, tc := range []struct {
		name string
		id   int
		left []int
		err  error
		msg  string
	}{
		{name: "a drawn track", id: 2, left: []int{1, 4}},
		{name: "a detection is refused", id: 1, err: plan.ErrNotManual, msg: "a detection's boxes are not edited: leave track 1 unmasked as a false detection, or draw a box"},
		{name: "an unmasked detection is refused", id: 4, err: plan.ErrNotManual},
		{name: "no such track", id: 3, err: plan.ErrNoTrack},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := edited(t, nil, tc.err, tc.msg, func(p *plan.Plan) error { return p.Delete(tc.id) })
			if p != nil && !slices.Equal(ids(p), tc.left) {
				t.Fatalf("tracks %v, want %v", ids(p), tc.left)
			}
		})
	}
}

// Drawn track 2 is on frames 10..19 and 30.

func TestCutBefore(t *testing.T) {
	for _, tc := range []struct {
		name   string
		id     int
		frame  int
		frames []int
		err    error
		msg    string
	}{
		{name: "inside the track", id: 2, frame: 15, frames: append(seq(15, 20), 30)},
		{name: "on its first frame", id: 2, frame: 10, frames: append(seq(10, 20), 30)},
		{name: "before it", id: 2, frame: -5, frames: append(seq(10, 20), 30)},
		{name: "in a gap", id: 2, frame: 25, frames: []int{30}},
		{name: "on its last frame", id: 2, frame: 30, frames: []int{30}},
		{name: "after it", id: 2, frame: 31, err: plan.ErrEmptyCut, msg: "nothing of the track would be left: track 2 has no box on frame 31 or after: delete it instead"},
		{name: "a detection", id: 1, frame: 5, err: plan.ErrNotManual, msg: "draw a box"},
		{name: "no such track", id: 3, frame: 5, err: plan.ErrNoTrack},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := edited(t, nil, tc.err, tc.msg, func(p *plan.Plan) error { return p.CutBefore(tc.id, tc.frame) })
			if p != nil && !slices.Equal(frames(t, p, tc.id), tc.frames) {
				t.Fatalf("frames %v, want %v", frames(t, p, tc.id), tc.frames)
			}
		})
	}
}

func TestCutAfter(t *testing.T) {
	for _, tc := range []struct {
		name   string
		id     int
		frame  int
		frames []int
		err    error
		msg    string
	}{
		{name: "inside the track", id: 2, frame: 15, frames: seq(10, 16)},
		{name: "on its last frame", id: 2, frame: 30, frames: append(seq(10, 20), 30)},
		{name: "after it", id: 2, frame: 500, frames: append(seq(10, 20), 30)},
		{name: "in a gap", id: 2, frame: 25, frames: seq(10, 20)},
		{name: "on its first frame", id: 2, frame: 10, frames: []int{10}},
		{name: "before it", id: 2, frame: 9, err: plan.ErrEmptyCut, msg: "track 2 has no box on frame 9 or before: delete it instead"},
		{name: "a detection", id: 4, frame: 5, err: plan.ErrNotManual},
		{name: "no such track", id: 0, frame: 5, err: plan.ErrNoTrack},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := edited(t, nil, tc.err, tc.msg, func(p *plan.Plan) error { return p.CutAfter(tc.id, tc.frame) })
			if p == nil {
				return
			}
			if !slices.Equal(frames(t, p, tc.id), tc.frames) {
				t.Fatalf("frames %v, want %v", frames(t, p, tc.id), tc.frames)
			}
			if got, want := track(t, p, tc.id).Boxes, track(t, fixture(), tc.id).Boxes[:len(tc.frames)]; !slices.Equal(got, want) {
				t.Fatalf("the boxes kept changed: %v, want %v", got, want)
			}
		})
	}
}
