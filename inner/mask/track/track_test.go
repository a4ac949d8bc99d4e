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

// run feeds detections (every third frame) through a tracker and collects
// the boxes it emits per frame.
func run(cfg track.Config, frames int, dets func(f int) []track.Det) map[int][]track.Out {
	tr := track.New(cfg, 1280, 720)
	got := map[int][]track.Out{}
	collect := func(f int, outs []track.Out) { got[f] = append(got[f], outs...) }
	for f := range frames {
		if f%3 == 0 {
			tr.Add(f, dets(f))
		}
		tr.Emit(frames, false, collect)
	}
	tr.Emit(frames, true, collect)
	return got
}

// A small face crossing fast (its own size between detection frames) stays
// one track, and the padding before its first and after its last detection
// follows its motion instead of standing where it was first and last seen.
func TestFastSmallSubjectPaddedAlongItsPath(t *testing.T) {
	const v = 8 // px a frame; the face is 24 px wide
	got := run(track.Config{MaxGap: 9, Pad: 5}, 90, func(f int) []track.Det {
		if f < 30 || f > 60 {
			return nil
		}
		return []track.Det{{Kind: plan.KindFace, X: 100 + v*f, Y: 300, W: 24, H: 24, Score: 0.9}}
	})
	for f := 25; f <= 65; f++ {
		outs := got[f]
		if len(outs) != 1 || outs[0].TrackID != 1 {
			t.Fatalf("frame %d: %v, want one box of track 1", f, outs)
		}
		if x := outs[0].Box.X; x < 100+v*f-2 || x > 100+v*f+2 {
			t.Errorf("frame %d (%s): box at x=%d, face at %d", f, outs[0].Box.By, x, 100+v*f)
		}
	}
}

// Weak detections are masked once a track has three, not before; a strong
// one alone is.
func TestWeakDetectionsNeedConfirming(t *testing.T) {
	cfg := track.Config{MaxGap: 9, Pad: 2, Confirm: map[string]float64{plan.KindFace: 0.5}}
	got := run(cfg, 60, func(f int) []track.Det {
		var d []track.Det
		if f == 9 || f == 12 { // weak, twice
			d = append(d, track.Det{Kind: plan.KindFace, X: 100, Y: 100, W: 20, H: 20, Score: 0.35})
		}
		if f == 30 || f == 33 || f == 36 { // weak, three times
			d = append(d, track.Det{Kind: plan.KindFace, X: 600, Y: 100, W: 20, H: 20, Score: 0.35})
		}
		if f == 45 { // strong, alone
			d = append(d, track.Det{Kind: plan.KindFace, X: 900, Y: 100, W: 20, H: 20, Score: 0.8})
		}
		return d
	})
	if len(got[9])+len(got[12]) != 0 {
		t.Errorf("two weak detections are masked: %v %v", got[9], got[12])
	}
	for _, f := range []int{30, 31, 36} {
		if len(got[f]) != 1 {
			t.Errorf("frame %d: a confirmed weak track is not masked: %v", f, got[f])
		}
	}
	if len(got[45]) != 1 {
		t.Errorf("a lone strong detection is not masked: %v", got[45])
	}
}
