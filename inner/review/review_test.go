package review_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"sealgate/inner/child"
	"sealgate/inner/mask"
	"sealgate/inner/mask/plan"
	"sealgate/inner/review"
	"sealgate/inner/video/videotest"
	"sealgate/shared/pgdb/pgtest"
)

// The test binary plays the worker process when workerEnv names a clip.
const workerEnv = "SEALGATE_REVIEW_TEST_WORKER"

func TestMain(m *testing.M) {
	if clip := os.Getenv(workerEnv); clip != "" {
		if err := review.Serve(context.Background(), clip, os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	if os.Getenv(child.Env) != "" { // the analyser's child: a clip it cannot read
		fmt.Fprintln(os.Stderr, `{"frame":1,"frames":4}`)
		fmt.Fprintln(os.Stderr, "sealgate-inner: mask: "+os.Args[3]+": no video stream")
		os.Exit(1)
	}
	os.Exit(pgtest.Main(m))
}

func start(t *testing.T, clip string) (*review.Worker, error) {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), workerEnv+"="+clip)
	w, err := review.Start(context.Background(), cmd)
	if err == nil {
		t.Cleanup(w.Close)
	}
	return w, err
}

func TestFrames(t *testing.T) {
	clip := videotest.Asset(t, "movie-hello.mp4")
	w, err := start(t, clip)
	if err != nil {
		t.Fatal(err)
	}
	if w.Clip.Width != 1280 || w.Clip.Height != 720 || w.Clip.Frames != 249 || len(w.Clip.Times) != 249 || w.Clip.Times[0] != 0 {
		t.Fatalf("clip %+v", w.Clip)
	}
	ctx := context.Background()
	plain := decode(t, must(w.Frame(ctx, 120, 640, nil)))
	if b := plain.Bounds(); b.Dx() != 640 || b.Dy() != 360 {
		t.Fatalf("frame is %v, want 640×360 (1280 wide halved to fit 640)", b)
	}
	box := plan.Box{F: 120, X: 400, Y: 200, W: 200, H: 200, By: plan.ByManual}
	masked := decode(t, must(w.Frame(ctx, 120, 640, &review.MaskSpec{Style: plan.StyleSolid, Boxes: []plan.Box{box}})))
	// Solid fill is black inside the box (in display pixels: halved) and
	// nothing changes far from it.
	if y := luma(masked, 250, 150); y > 20 {
		t.Fatalf("inside the solid box luma is %d", y)
	}
	if a, b := luma(plain, 50, 50), luma(masked, 50, 50); a != b {
		t.Fatalf("outside the box the masked frame changed: %d vs %d", a, b)
	}
	// Back and forth gives the same picture.
	again := decode(t, must(w.Frame(ctx, 120, 640, nil)))
	must(w.Frame(ctx, 3, 640, nil))
	if luma(again, 300, 200) != luma(plain, 300, 200) {
		t.Fatal("frame 120 differs on a second look")
	}

	// A frame that does not exist is refused; the worker goes on.
	_, err = w.Frame(ctx, 249, 640, nil)
	var re *review.RequestError
	if !errors.As(err, &re) || !w.Alive() {
		t.Fatalf("frame 249 of 249: %v (alive %v)", err, w.Alive())
	}
	if _, err := w.Track(ctx, 10, plan.Box{X: 1200, Y: 700, W: 200, H: 200}, 10, review.BothWays); !errors.As(err, &re) {
		t.Fatalf("a box outside the frame: %v", err)
	}
	// A caller that gives up kills the worker rather than leave it busy.
	cctx, cancel := context.WithTimeout(ctx, time.Millisecond)
	defer cancel()
	time.Sleep(2 * time.Millisecond)
	if _, err := w.Frame(cctx, 200, 640, nil); err == nil || w.Alive() {
		t.Fatalf("cancelled request: %v, alive %v", err, w.Alive())
	}
}

func TestNotAVideo(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notes.mp4")
	os.WriteFile(path, []byte("meeting notes, not a video\n"), 0o600)
	if _, err := start(t, path); err == nil || !bytes.Contains([]byte(err.Error()), []byte("not a video")) {
		t.Fatalf("a text file: %v", err)
	}
}

// A box drawn on the face in one frame is carried onto the face in the
// frames before and after: the reference is the face detector's own track.
func TestTrackFollowsTheFace(t *testing.T) {
	clip := videotest.Asset(t, "movie-hello.mp4")
	res, err := mask.Mask(context.Background(), clip, "", mask.Options{Detect: []string{mask.DetectFaces}, ModelsDir: videotest.Dir(t)})
	if err != nil {
		t.Fatal(err)
	}
	face := map[int]plan.Box{}
	for _, tr := range res.Plan.Tracks {
		for _, b := range tr.Boxes {
			if b.By == plan.ByDetector {
				face[b.F] = b
			}
		}
	}
	const f0 = 120
	drawn, ok := face[f0]
	if !ok {
		t.Fatalf("the detector has no face on frame %d", f0)
	}
	w, err := start(t, clip)
	if err != nil {
		t.Fatal(err)
	}
	boxes, err := w.Track(context.Background(), f0, drawn, 60, review.BothWays)
	if err != nil {
		t.Fatal(err)
	}
	if len(boxes) < 100 || boxes[0].F > f0-50 || boxes[len(boxes)-1].F < f0+50 {
		t.Fatalf("tracked %d boxes, frames %d..%d; want about 60 each way", len(boxes), boxes[0].F, boxes[len(boxes)-1].F)
	}
	checked := 0
	for i, b := range boxes {
		if i > 0 && b.F != boxes[i-1].F+1 {
			t.Fatalf("tracked boxes skip from frame %d to %d", boxes[i-1].F, b.F)
		}
		d, ok := face[b.F]
		if !ok {
			continue
		}
		checked++
		cx, cy := d.X+d.W/2, d.Y+d.H/2
		if !image.Pt(cx, cy).In(image.Rect(b.X, b.Y, b.X+b.W, b.Y+b.H)) {
			t.Errorf("frame %d: the tracked box %d,%d %d×%d misses the detected face centre %d,%d", b.F, b.X, b.Y, b.W, b.H, cx, cy)
		}
	}
	if checked < 20 {
		t.Fatalf("only %d tracked frames had a detection to compare with", checked)
	}
	// Re-tracking a corrected box carries it forwards only.
	fwd, err := w.Track(context.Background(), f0, drawn, 30, review.Forwards)
	if err != nil {
		t.Fatal(err)
	}
	if fwd[0].F != f0 || fwd[0].By != plan.ByManual || len(fwd) != 31 || fwd[30].F != f0+30 {
		t.Fatalf("forwards from %d: %d boxes, frames %d..%d", f0, len(fwd), fwd[0].F, fwd[len(fwd)-1].F)
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

func decode(t *testing.T, b []byte) image.Image {
	t.Helper()
	img, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func luma(img image.Image, x, y int) uint8 {
	return img.(*image.YCbCr).Y[img.(*image.YCbCr).YOffset(x, y)]
}
