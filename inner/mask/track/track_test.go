package track_test

import (
	"testing"

	"sealgate/inner/mask/plan"
	"sealgate/inner/mask/track"
)

// A face detected on every third frame, missed once, moving right: every
// frame from Pad before its first to Pad after its last detection gets a box,
// interpolated boxes lie between the detections, and it stays one track.
func TestGapsFilledAndPadded(t *testing.T) {
	tr := track.New(track.Config{MaxGap: 9, Pad: 4}, 640, 480)
	got := map[int]track.Out{}
	collect := func(f int, outs []track.Out) {
		for _, o := range outs {
			if _, dup := got[f]; dup {
				t.Fatalf("frame %d: two boxes %v", f, outs)
			}
			got[f] = o
		}
	}
	for f := 0; f < 100; f++ {
		var dets []track.Det
		if f >= 30 && f <= 60 && f%3 == 0 && f != 45 {
			dets = append(dets, track.Det{Kind: plan.KindFace, X: 100 + 2*f, Y: 50, W: 40, H: 40})
		}
		if f%3 == 0 {
			tr.Add(f, dets)
		}
		tr.Emit(100, false, collect)
	}
	tr.Emit(100, true, collect)
	for f := 26; f <= 64; f++ {
		o, ok := got[f]
		if !ok {
			t.Fatalf("frame %d has no box", f)
		}
		if o.TrackID != 1 {
			t.Fatalf("frame %d: track %d, want one track", f, o.TrackID)
		}
		if f >= 30 && f <= 60 && (o.Box.X < 100+2*f-3 || o.Box.X > 100+2*f+1) {
			t.Fatalf("frame %d: box at x=%d, subject at %d", f, o.Box.X, 100+2*f)
		}
	}
	if got[45].Box.By != plan.ByInterpolated || got[30].Box.By != plan.ByDetector || got[26].Box.By != plan.ByPadding || got[64].Box.By != plan.ByPadding {
		t.Fatalf("origins: 45 %s, 30 %s, 26 %s, 64 %s", got[45].Box.By, got[30].Box.By, got[26].Box.By, got[64].Box.By)
	}
	if _, ok := got[25]; ok {
		t.Fatal("frame 25 boxed beyond the padding")
	}
	if _, ok := got[65]; ok {
		t.Fatal("frame 65 boxed beyond the padding")
	}
}

// Two people walking towards each other keep their identities; one who
// leaves for longer than MaxGap comes back as a new track.
func TestTwoSubjectsAndReentry(t *testing.T) {
	tr := track.New(track.Config{MaxGap: 4, Pad: 2}, 640, 480)
	ids := map[int]map[int]bool{} // x side → ids
	for f := 0; f < 40; f++ {
		dets := []track.Det{
			{Kind: plan.KindPerson, X: 10 + 5*f, Y: 100, W: 30, H: 80},
			{Kind: plan.KindPerson, X: 500 - 5*f, Y: 300, W: 30, H: 80},
		}
		if f >= 20 && f < 30 {
			dets = dets[:1] // the second leaves for 10 frames
		}
		tr.Add(f, dets)
	}
	tr.Emit(40, true, func(f int, outs []track.Out) {
		for _, o := range outs {
			side := 0
			if o.Box.Y > 200 {
				side = 1
			}
			if ids[side] == nil {
				ids[side] = map[int]bool{}
			}
			ids[side][o.TrackID] = true
		}
	})
	if len(ids[0]) != 1 {
		t.Fatalf("upper subject split into tracks %v", ids[0])
	}
	if len(ids[1]) != 2 {
		t.Fatalf("lower subject: tracks %v, want a new track after leaving", ids[1])
	}
}

// The lookahead is bounded: nothing is emitted for frames whose boxes could
// still change, and everything up to frontier-Delay is.
func TestDelayBound(t *testing.T) {
	tr := track.New(track.Config{MaxGap: 5, Pad: 3}, 100, 100)
	last := -1
	for f := range 50 {
		tr.Add(f, []track.Det{{Kind: plan.KindFace, X: 10, Y: 10, W: 10, H: 10}})
		tr.Emit(50, false, func(g int, _ []track.Out) { last = g })
		if want := f - tr.Delay(); last != max(want, -1) {
			t.Fatalf("after frame %d: emitted up to %d, want %d", f, last, want)
		}
	}
}
