package mask_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"sealgate/inner/mask"
	"sealgate/inner/mask/plan"
	"sealgate/inner/mask/render"
	"sealgate/inner/video"
	"sealgate/inner/video/videotest"
)

type annotations struct {
	Clips  map[string][]struct{ Keys [][3]int } `json:"clips"`
	People map[string]map[string][][2]int       `json:"people"`
}

func loadAnnotations(t testing.TB) *annotations {
	b, err := os.ReadFile("testdata/faces.json")
	if err != nil {
		t.Fatal(err)
	}
	var a annotations
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatal(err)
	}
	return &a
}

func options(t testing.TB, detect ...string) mask.Options {
	return mask.Options{Detect: detect, Margin: mask.DefaultMargin, ModelsDir: videotest.Dir(t)}
}

// covered reports whether point (x, y) lies in a masked region of frame f.
func covered(p *plan.Plan, ix *plan.Index, f, x, y int) bool {
	for _, b := range ix.At(f) {
		r := render.Grow(b, p.Margin, p.Width, p.Height)
		if x >= r.X0 && x < r.X1 && y >= r.Y0 && y < r.Y1 {
			return true
		}
	}
	return false
}

// faceCentres interpolates a clip's annotated face centres per frame.
func faceCentres(a *annotations, clip string) map[int][2]int {
	out := map[int][2]int{}
	for _, s := range a.Clips[clip] {
		for i := 0; i+1 < len(s.Keys); i++ {
			a, b := s.Keys[i], s.Keys[i+1]
			for f := a[0]; f <= b[0]; f++ {
				u := float64(f-a[0]) / float64(b[0]-a[0])
				out[f] = [2]int{a[1] + int(u*float64(b[1]-a[1])), a[2] + int(u*float64(b[2]-a[2]))}
			}
		}
	}
	return out
}

// faceRecall masks each annotated clip with the face detector and counts
// the annotated face-frames whose face centre is masked.
func faceRecall(t testing.TB) (hit, total int) {
	a := loadAnnotations(t)
	for clip := range a.Clips {
		res, err := mask.Mask(context.Background(), videotest.Asset(t, clip), filepath.Join(t.TempDir(), "out.mp4"), options(t, mask.DetectFaces))
		if err != nil {
			t.Fatal(err)
		}
		ix := res.Plan.Masked()
		var missed []int
		centres := faceCentres(a, clip)
		for f, c := range centres {
			if covered(res.Plan, ix, f, c[0], c[1]) {
				hit++
			} else {
				missed = append(missed, f)
			}
		}
		total += len(centres)
		t.Logf("%s: %d of %d face-frames masked; missed %v", clip, len(centres)-len(missed), len(centres), missed)
	}
	return hit, total
}

// FaceRecall is the acceptance bar: ≥ 0.98 of the annotated face-frames masked.
func TestFaceRecallOnAnnotatedClips(t *testing.T) {
	hit, total := faceRecall(t)
	recall := float64(hit) / float64(total)
	t.Logf("face recall %.4f over %d annotated face-frames", recall, total)
	if recall < 0.98 {
		t.Fatalf("face recall %.4f < 0.98", recall)
	}
}

// peopleRecall masks vtest.avi with the people detector and counts the
// people annotated on its frames who are masked.
func peopleRecall(t testing.TB) (hit, total int) {
	a := loadAnnotations(t)
	res, err := mask.Mask(context.Background(), videotest.Asset(t, "vtest.avi"), filepath.Join(t.TempDir(), "out.mp4"), options(t, mask.DetectPeople))
	if err != nil {
		t.Fatal(err)
	}
	ix := res.Plan.Masked()
	for frame, pts := range a.People["vtest.avi"] {
		var f int
		json.Unmarshal([]byte(frame), &f)
		for _, p := range pts {
			total++
			if covered(res.Plan, ix, f, p[0], p[1]) {
				hit++
			} else {
				t.Logf("frame %d: person at %v not masked", f, p)
			}
		}
	}
	return hit, total
}

// On vtest.avi (fixed elevated camera), the walking people annotated on a
// frame are inside masked regions.
func TestPeopleMaskedOnVtest(t *testing.T) {
	if hit, total := peopleRecall(t); hit != total || total == 0 {
		t.Errorf("%d of %d annotated people unmasked", total-hit, total)
	}
}

// BenchmarkRecall reports the detectors' recall on the project's own
// annotations (testdata/faces.json; docs/masking.md says how they were
// made), on plates composited onto a real car (plates from the
// localiser's floor width up) and on the CCTV evaluation set (faces by
// size band with small-faces, cctv_test.go), beside the counts they come
// from. It measures no time.
func BenchmarkRecall(b *testing.B) {
	faces, faceFrames := faceRecall(b)
	people, persons := peopleRecall(b)
	plates, _, falsePlates, plateFrames := plateRecall(b)
	cctv, falseArea := cctvEval(b, options(b, mask.DetectSmallFaces))
	for b.Loop() {
	}
	for _, band := range []struct {
		lo, hi int
		name   string
	}{{24, 1 << 30, "24px+"}, {20, 24, "20-23px"}, {16, 20, "16-19px"}} {
		m, n, gap := bandRecall(cctv, band.lo, band.hi)
		b.ReportMetric(float64(m)/float64(n), "cctv_face_recall_"+band.name)
		b.ReportMetric(float64(gap), "cctv_longest_unmasked_run_"+band.name)
	}
	b.ReportMetric(falseArea, "cctv_masked_area_outside_heads")
	b.ReportMetric(float64(faces)/float64(faceFrames), "face_recall")
	b.ReportMetric(float64(faceFrames), "face_frames")
	b.ReportMetric(float64(people)/float64(persons), "people_recall")
	b.ReportMetric(float64(persons), "people")
	b.ReportMetric(float64(plates.hit)/float64(plates.n), "plate_recall")
	b.ReportMetric(float64(plates.n), "plate_frames")
	b.ReportMetric(float64(falsePlates)/float64(plateFrames), "false_plate_regions/frame")
}

// The output keeps the input's frames and timestamps; an excluded track
// stays unmasked and a manual box is masked.
func TestMaskKeepsTimingAndHonoursThePlan(t *testing.T) {
	ctx := context.Background()
	in := videotest.Asset(t, "movie-hello.mp4")
	dir := t.TempDir()
	first, err := mask.Mask(ctx, in, filepath.Join(dir, "a.mp4"), options(t, mask.DetectFaces))
	if err != nil {
		t.Fatal(err)
	}
	if first.MaskedFrames != first.Frames || len(first.Plan.Tracks) != 1 {
		t.Fatalf("masked %d of %d frames in %d tracks", first.MaskedFrames, first.Frames, len(first.Plan.Tracks))
	}
	// Review: exclude the face (the requester) and mask a manual region.
	p := first.Plan
	p.Tracks[0].Excluded = true
	p.Tracks = append(p.Tracks, plan.Track{ID: p.NextID(), Kind: plan.KindManual, Source: plan.SourceManual,
		Boxes: []plan.Box{{F: 10, X: 600, Y: 300, W: 100, H: 50, By: plan.ByManual}}})
	opts := options(t, mask.DetectFaces)
	opts.Plan = p
	second, err := mask.Mask(ctx, in, filepath.Join(dir, "b.mp4"), opts)
	if err != nil {
		t.Fatal(err)
	}
	if second.MaskedFrames != 1 {
		t.Fatalf("with the face excluded, %d frames masked, want 1 (the manual box)", second.MaskedFrames)
	}
	// With no detectors at all only the plan's own boxes are masked (the
	// whole clip still passes through the pipeline's lookahead).
	opts.Detect = []string{}
	only, err := mask.Mask(ctx, in, filepath.Join(dir, "only-plan.mp4"), opts)
	if err != nil {
		t.Fatal(err)
	}
	if only.MaskedFrames != 1 || only.Detections != 0 {
		t.Fatalf("no detectors: %d frames masked and %d detections, want 1 and 0", only.MaskedFrames, only.Detections)
	}
	src, _ := video.Probe(ctx, in)
	out, err := video.Probe(ctx, filepath.Join(dir, "b.mp4"))
	if err != nil {
		t.Fatal(err)
	}
	if out.Frames() != src.Frames() || out.Seconds(out.PTS[out.Frames()-1]) != src.Seconds(src.PTS[src.Frames()-1]) {
		t.Fatalf("output %d frames ending %.6f s; input %d ending %.6f s", out.Frames(), out.Seconds(out.PTS[out.Frames()-1]), src.Frames(), src.Seconds(src.PTS[src.Frames()-1]))
	}
	// A plan for another clip is refused.
	opts.Plan.Frames++
	if _, err := mask.Mask(ctx, in, filepath.Join(dir, "c.mp4"), opts); err == nil || !strings.Contains(err.Error(), "mask plan is for") {
		t.Fatalf("plan for another clip: %v", err)
	}
}

// Bad input: a clear error, no output file, and the process lives on.
func TestMaskBadInput(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	txt := filepath.Join(dir, "x.mp4")
	os.WriteFile(txt, []byte("not a video"), 0o600)
	src, _ := os.ReadFile(videotest.Asset(t, "movie-hello.mp4"))
	cut := filepath.Join(dir, "cut.mp4")
	os.WriteFile(cut, src[:len(src)/3], 0o600)
	zero := filepath.Join(dir, "zero.mkv")
	videotest.FFmpeg(t, "-f", "lavfi", "-i", "sine=d=1", "-f", "lavfi", "-i", "color=s=64x64:d=1", "-map", "0", "-map", "1", "-frames:v", "0", zero)
	huge := filepath.Join(dir, "huge.mkv")
	videotest.FFmpeg(t, "-f", "lavfi", "-i", "color=c=gray:s=8192x4608:d=0.04", "-c:v", "ffv1", huge)
	for name, in := range map[string]string{"not a video": txt, "truncated": cut, "zero frames": zero, "huge": huge} {
		out := filepath.Join(dir, "out-"+strings.ReplaceAll(name, " ", "-")+".mp4")
		_, err := mask.Mask(ctx, in, out, options(t, mask.DetectFaces))
		if err == nil {
			t.Errorf("%s: masked without error", name)
			continue
		}
		t.Logf("%s: %v", name, err)
		if _, serr := os.Stat(out); serr == nil {
			t.Errorf("%s: output left behind", name)
		}
		if left, _ := filepath.Glob(filepath.Join(filepath.Dir(out), ".*.partial")); len(left) > 0 {
			t.Errorf("%s: partial output left behind: %v", name, left)
		}
	}
	if _, err := mask.Mask(ctx, txt, filepath.Join(dir, "o.mp4"), mask.Options{Detect: []string{mask.DetectFaces}, ModelsDir: dir}); err == nil {
		t.Error("missing face model accepted")
	}
}

// A run cancelled midway (an operator aborts the export) stops with the
// context's error, leaves no output behind and no goroutine running.
func TestMaskStopsWhenCancelled(t *testing.T) {
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	long := filepath.Join(dir, "long.mp4") // 33 s: the first progress report comes long before the end
	videotest.FFmpeg(t, "-stream_loop", "3", "-i", videotest.Asset(t, "movie-hello.mp4"), "-c", "copy", long)
	out := filepath.Join(dir, "m.mp4")
	opts := options(t, mask.DetectFaces, mask.DetectPeople)
	seen := 0
	opts.Progress = func(p mask.Progress) {
		seen = p.Frame
		cancel()
	}
	_, err := mask.Mask(ctx, long, out, opts)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled at frame %d: got %v, want context.Canceled", seen, err)
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("%s left behind", out)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*.partial")); len(left) > 0 {
		t.Errorf("partial output left behind: %v", left)
	}
	for range 50 { // goroutines end just after Mask returns
		if runtime.NumGoroutine() <= before {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%d goroutines before, %d after", before, runtime.NumGoroutine())
}

// The leak check finds faces in unmasked video (positive control), none in
// the masked output, and flags a gap left in a track.
func TestLeakCheck(t *testing.T) {
	ctx := context.Background()
	in := videotest.Asset(t, "movie-hello.mp4")
	out := filepath.Join(t.TempDir(), "m.mp4")
	res, err := mask.Mask(ctx, in, out, options(t, mask.DetectFaces))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := mask.LeakCheck(ctx, out, res.Plan, videotest.Dir(t))
	if err != nil {
		t.Fatal(err)
	}
	if rep.FramesChecked < 60 {
		t.Fatalf("checked only %d frames", rep.FramesChecked)
	}
	// The masked face is never a suspect (no suspect holds its annotated
	// centre); a false alarm elsewhere (the check is tuned to be
	// sensitive) must stay rare.
	centres := faceCentres(loadAnnotations(t), "movie-hello.mp4")
	for _, s := range rep.Suspects {
		c, ok := centres[s.Frame]
		t.Logf("suspect %+v (face centre %v)", s, c)
		if ok && c[0] >= s.X && c[0] < s.X+s.W && c[1] >= s.Y && c[1] < s.Y+s.H {
			t.Fatalf("masked face reported as a leak: %+v", s)
		}
	}
	// Measured: 1–2 (frames 18 and 216: the mosaic's edge beside the face,
	// and a large face-like region of the scene), which of them fires
	// depends on the last bits of the masked encode.
	if len(rep.Suspects) > rep.FramesChecked/40 {
		t.Fatalf("masked output: %d suspects on %d frames: %v", len(rep.Suspects), rep.FramesChecked, rep.Suspects)
	}
	empty := *res.Plan
	empty.Tracks = nil
	rep, err = mask.LeakCheck(ctx, in, &empty, videotest.Dir(t))
	if err != nil {
		t.Fatal(err)
	}
	faces := 0
	for _, s := range rep.Suspects {
		if s.Reason == "face_detected" {
			faces++
		}
	}
	if faces < rep.FramesChecked*9/10 {
		t.Fatalf("unmasked original: faces found on %d of %d checked frames", faces, rep.FramesChecked)
	}
	gappy := *res.Plan
	gappy.Tracks = []plan.Track{res.Plan.Tracks[0]}
	gappy.Tracks[0].Boxes = append(append([]plan.Box{}, res.Plan.Tracks[0].Boxes[:50]...), res.Plan.Tracks[0].Boxes[51:]...)
	rep, err = mask.LeakCheck(ctx, out, &gappy, videotest.Dir(t))
	if err != nil {
		t.Fatal(err)
	}
	var gaps []int
	for _, s := range rep.Suspects {
		if s.Reason == "track_gap" {
			gaps = append(gaps, s.Frame)
		}
	}
	if len(gaps) != 1 || gaps[0] != 50 {
		t.Fatalf("gap at frame 50: gaps reported at %v", gaps)
	}
}
