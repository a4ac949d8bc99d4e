package plan_test

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"

	"sealgate/inner/mask/plan"
)

// boxOf is track id's box on frame f in the fixture.
func boxOf(t *testing.T, id, f int) plan.Box {
	t.Helper()
	for _, b := range track(t, fixture(), id).Boxes {
		if b.F == f {
			return b
		}
	}
	t.Fatalf("track %d has no box on frame %d", id, f)
	return plan.Box{}
}

func TestBoxesAt(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(*plan.Plan)
		frame int
		want  [][2]int // track, frame
	}{
		{name: "a detection", frame: 0, want: [][2]int{{1, 0}}},
		{name: "the subject is left out", frame: 7, want: [][2]int{{1, 7}}},
		{name: "a drawn track", frame: 12, want: [][2]int{{2, 12}}},
		{name: "masked again", edit: func(p *plan.Plan) { p.Include(4) }, frame: 7, want: [][2]int{{1, 7}, {4, 7}}},
		{name: "a false detection is left out", edit: func(p *plan.Plan) { p.Exclude(1, plan.ReasonNotSensitive) }, frame: 3},
		{name: "a drawn track left unmasked", edit: func(p *plan.Plan) { p.Exclude(2, plan.ReasonSubject) }, frame: 12},
		{name: "in a track's gap", frame: 25},
		{name: "before the clip", frame: -1},
		{name: "past the clip", frame: 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := fixture()
			if tc.edit != nil {
				tc.edit(p)
			}
			var want []plan.Box
			for _, tf := range tc.want {
				want = append(want, boxOf(t, tf[0], tf[1]))
			}
			if got := p.BoxesAt(tc.frame); !reflect.DeepEqual(got, want) {
				t.Fatalf("frame %d: %+v, want %+v", tc.frame, got, want)
			}
			for f := -1; f <= p.Frames; f++ { // the preview masks what the export does
				if got, ix := p.BoxesAt(f), p.Masked().At(f); !reflect.DeepEqual(got, ix) {
					t.Fatalf("frame %d: BoxesAt %+v, Masked().At %+v", f, got, ix)
				}
			}
		})
	}
}

func TestBoxesIn(t *testing.T) {
	for _, tc := range []struct {
		name     string
		from, to int
		want     [][2]int // track, frame
	}{
		{name: "one track", from: 0, to: 3, want: [][2]int{{1, 0}, {1, 1}, {1, 2}}},
		{name: "track by track, unmasked ones too", from: 8, to: 12, want: [][2]int{{1, 8}, {1, 9}, {2, 10}, {2, 11}, {4, 8}, {4, 9}, {4, 10}, {4, 11}}},
		{name: "across a gap", from: 19, to: 31, want: [][2]int{{2, 19}, {2, 30}}},
		{name: "to is left out", from: 30, to: 30},
		{name: "nothing there", from: 40, to: 90},
		{name: "past the clip", from: 200, to: 300},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := []plan.TrackBox{}
			for _, tf := range tc.want {
				want = append(want, plan.TrackBox{Track: tf[0], Box: boxOf(t, tf[0], tf[1])})
			}
			if got := fixture().BoxesIn(tc.from, tc.to); !reflect.DeepEqual(got, want) {
				t.Fatalf("[%d, %d): %+v, want %+v", tc.from, tc.to, got, want)
			}
		})
	}
	none, _ := json.Marshal(fixture().BoxesIn(50, 60))
	one, _ := json.Marshal(fixture().BoxesIn(0, 1))
	if string(none) != `[]` || string(one) != `[{"t":1,"f":0,"x":10,"y":20,"w":40,"h":40,"by":"detector"}]` {
		t.Fatalf("JSON: %s and %s", none, one)
	}
}

func TestCount(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*plan.Plan)
		want plan.Counts
	}{
		{name: "the fixture", want: plan.Counts{Tracks: 3, Manual: 1, Subjects: 1, Faces: 1}},
		{name: "a false detection", edit: func(p *plan.Plan) { p.Exclude(1, plan.ReasonNotSensitive) }, want: plan.Counts{Tracks: 3, Manual: 1, Subjects: 1, NotSensitive: 1}},
		{name: "a drawn track left unmasked counts as both", edit: func(p *plan.Plan) { p.Exclude(2, plan.ReasonSubject) }, want: plan.Counts{Tracks: 3, Manual: 1, Subjects: 2, Faces: 1}},
		{name: "masked again", edit: func(p *plan.Plan) { p.Include(4) }, want: plan.Counts{Tracks: 3, Manual: 1, Faces: 1, Plates: 1}},
		{name: "another drawn track", edit: func(p *plan.Plan) { p.AddManual(span(0, 5, plan.ByManual)) }, want: plan.Counts{Tracks: 4, Manual: 2, Subjects: 1, Faces: 1}},
		{name: "the drawn track deleted", edit: func(p *plan.Plan) { p.Delete(2) }, want: plan.Counts{Tracks: 2, Subjects: 1, Faces: 1}},
		{name: "excluded without a reason", edit: func(p *plan.Plan) { p.Tracks[0].Excluded = true }, want: plan.Counts{Tracks: 3, Manual: 1, Subjects: 1}},
		{name: "a person and a plate", edit: func(p *plan.Plan) {
			p.Tracks = append(p.Tracks, plan.Track{ID: 5, Kind: plan.KindPerson, Source: plan.SourceAuto, Boxes: span(0, 3, plan.ByDetector)},
				plan.Track{ID: 6, Kind: plan.KindPlate, Source: plan.SourceAuto, Boxes: span(0, 3, plan.ByDetector)})
		}, want: plan.Counts{Tracks: 5, Manual: 1, Subjects: 1, Faces: 1, Plates: 1, People: 1}},
		{name: "no tracks", edit: func(p *plan.Plan) { p.Tracks = nil }, want: plan.Counts{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := fixture()
			if tc.edit != nil {
				tc.edit(p)
			}
			if got := p.Count(); got != tc.want {
				t.Fatalf("%+v, want %+v", got, tc.want)
			}
		})
	}
}

// TestClone: a clone and the plan it came from are edited independently,
// whichever is edited, even where the track list has room to grow in place.
func TestClone(t *testing.T) {
	roomy := func() *plan.Plan {
		p := fixture()
		p.Tracks = slices.Grow(p.Tracks, 10)
		return p
	}
	for _, tc := range []struct {
		name string
		edit func(*plan.Plan) error
	}{
		{name: "add", edit: func(p *plan.Plan) error { _, err := p.AddManual(span(50, 52, plan.ByManual)); return err }},
		{name: "exclude", edit: func(p *plan.Plan) error { return p.Exclude(1, plan.ReasonNotSensitive) }},
		{name: "include", edit: func(p *plan.Plan) error { return p.Include(4) }},
		{name: "delete", edit: func(p *plan.Plan) error { return p.Delete(2) }},
		{name: "cut before", edit: func(p *plan.Plan) error { return p.CutBefore(2, 15) }},
		{name: "cut after", edit: func(p *plan.Plan) error { return p.CutAfter(2, 15) }},
		{name: "set a box", edit: func(p *plan.Plan) error { _, err := p.SetBox(2, drawnAt(12, 0, 0, 64, 64)); return err }},
		{name: "re-track", edit: func(p *plan.Plan) error {
			_, err := p.Retrack(2, drawnAt(12, 0, 0, 64, 64), span(13, 20, plan.ByTracker))
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := roomy()
			q := p.Clone()
			if err := tc.edit(q); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(p.Tracks, fixture().Tracks) {
				t.Fatal("editing the clone changed the original")
			}
			edited := q.Clone()
			if err := tc.edit(p); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(q, edited) {
				t.Fatal("editing the original changed the clone")
			}
			if !reflect.DeepEqual(p.Tracks, q.Tracks) {
				t.Fatal("the same edit gave different plans")
			}
		})
	}
}
