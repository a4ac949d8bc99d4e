package mask_test

import (
	"context"
	"fmt"
	"image"
	"io"
	"os/exec"
	"strings"
	"testing"

	"gocv.io/x/gocv"

	"sealgate/inner/mask"
	"sealgate/inner/mask/plan"
	"sealgate/inner/video/videotest"
)

// The far-field people evaluation (docs/masking.md, "Far-field people and
// people who stop"): vtest.avi's own people, walking and stopping to talk,
// found as differences from the median of 15 frames of the clip (the
// masking pass primes its scene with a median of 9 and then learns as it
// goes, so at the clip's start the two are alike; docs/masking.md says so).
// A person-frame counts as masked when the head and upper body (the top
// 40 % of the person's box, its middle 60 % across) are masked.

// decodeBGR calls fn with each frame of clip as BGR at w×h, in order.
func decodeBGR(t testing.TB, clip string, w, h int, fn func(f int, frame gocv.Mat)) {
	t.Helper()
	cmd := exec.Command("ffmpeg", "-nostdin", "-v", "error", "-i", clip, "-vf", fmt.Sprintf("scale=%d:%d", w, h), "-f", "rawvideo", "-pix_fmt", "bgr24", "-")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("ffmpeg: %v", err)
	}
	buf := make([]byte, w*h*3)
	for f := 0; ; f++ {
		if _, err := io.ReadFull(out, buf); err != nil {
			break
		}
		m, err := gocv.NewMatFromBytes(h, w, gocv.MatTypeCV8UC3, buf)
		if err != nil {
			t.Fatal(err)
		}
		fn(f, m)
		m.Close()
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("ffmpeg decoding %s: %v: %s", clip, err, stderr.String())
	}
}

// blob is one region of a frame that differs from the empty scene.
type blob struct {
	r    image.Rectangle
	fill float64 // the share of r the region covers
}

// differences are the regions of frame that differ from bg.
func differences(frame, bg gocv.Mat) []blob {
	diff, gray, fg := gocv.NewMat(), gocv.NewMat(), gocv.NewMat()
	defer diff.Close()
	defer gray.Close()
	defer fg.Close()
	gocv.AbsDiff(frame, bg, &diff)
	gocv.CvtColor(diff, &gray, gocv.ColorBGRToGray)
	gocv.Threshold(gray, &fg, 28, 255, gocv.ThresholdBinary)
	open := gocv.GetStructuringElement(gocv.MorphEllipse, image.Pt(3, 3))
	defer open.Close()
	closing := gocv.GetStructuringElement(gocv.MorphEllipse, image.Pt(7, 13))
	defer closing.Close()
	gocv.MorphologyEx(fg, &fg, gocv.MorphOpen, open)
	gocv.MorphologyEx(fg, &fg, gocv.MorphClose, closing)
	contours := gocv.FindContours(fg, gocv.RetrievalExternal, gocv.ChainApproxSimple)
	defer contours.Close()
	out := make([]blob, 0, contours.Size())
	for i := range contours.Size() {
		c := contours.At(i)
		r := gocv.BoundingRect(c)
		out = append(out, blob{r, gocv.ContourArea(c) / float64(max(area(r), 1))})
	}
	return out
}

// people are the blobs that are people on a w×h frame: taller than minH,
// upright, not cut by the picture's edge.
func people(blobs []blob, w, h, minH int) []image.Rectangle {
	var out []image.Rectangle
	for _, b := range blobs {
		r := b.r
		if r.Dy() < minH || r.Dy() < 2*r.Dx() || r.Dy() > 4*r.Dx() || b.fill < 0.4 ||
			r.Min.X <= 1 || r.Min.Y <= 1 || r.Max.X >= w-1 || r.Max.Y >= h-1 {
			continue
		}
		out = append(out, r)
	}
	return out
}

// upperMasked reports whether the head and upper body of a person in box
// are masked on frame f.
func upperMasked(p *plan.Plan, ix *plan.Index, f int, box image.Rectangle) bool {
	for i := range 3 {
		for j := range 3 {
			x := box.Min.X + int(float64(box.Dx())*(0.2+0.6*(float64(i)+0.5)/3))
			y := box.Min.Y + int(float64(box.Dy())*(0.4*(float64(j)+0.5)/3))
			if !covered(p, ix, f, x, y) {
				return false
			}
		}
	}
	return true
}

// vtestPeople masks vtest.avi with opts and scores its walking people;
// falseArea is the mean fraction of the picture masked away from every
// difference from the median (each difference's box grown by half its size).
func vtestPeople(t testing.TB, opts mask.Options) (masked, frames int, falseArea float64) {
	t.Helper()
	dir := t.TempDir()
	const w, h = 768, 576
	bg := emptyStreet(t, dir, w, h)
	defer bg.Close()
	clip := videotest.Asset(t, "vtest.avi")
	res, err := mask.Mask(context.Background(), clip, "", opts)
	if err != nil {
		t.Fatal(err)
	}
	ix := res.Plan.Masked()
	n := 0
	decodeBGR(t, clip, w, h, func(f int, frame gocv.Mat) {
		blobs := differences(frame, bg)
		for _, box := range people(blobs, w, h, 40) {
			frames++
			if upperMasked(res.Plan, ix, f, box) {
				masked++
			}
		}
		falseArea += maskedAwayFrom(res.Plan, ix, f, grown(blobs))
		n++
	})
	return masked, frames, falseArea / float64(max(n, 1))
}

// grown are the boxes of blobs 8 px tall or more, grown by half their
// size: what a mask may cover without being false.
func grown(blobs []blob) []image.Rectangle {
	var out []image.Rectangle
	for _, b := range blobs {
		if b.r.Dy() >= 8 {
			out = append(out, b.r.Inset(-max(b.r.Dx(), b.r.Dy())/2))
		}
	}
	return out
}

// maskedAwayFrom is the fraction of frame f masked outside every one of
// boxes (sampled every 4 px).
func maskedAwayFrom(p *plan.Plan, ix *plan.Index, f int, boxes []image.Rectangle) float64 {
	const step = 4
	n, total := 0, 0
	for y := 0; y < p.Height; y += step {
		for x := 0; x < p.Width; x += step {
			total++
			if !covered(p, ix, f, x, y) {
				continue
			}
			inside := false
			for _, b := range boxes {
				if image.Pt(x, y).In(b) {
					inside = true
					break
				}
			}
			if !inside {
				n++
			}
		}
	}
	return float64(n) / float64(total)
}

// On vtest.avi the walking people's heads and upper bodies are masked in
// at least 0.95 of person-frames.
func TestFarFieldPeopleOnVtest(t *testing.T) {
	m, n, falseArea := vtestPeople(t, options(t, mask.DetectPeople))
	t.Logf("vtest.avi: %d of %d person-frames masked (%.3f); masked away from any change: %.4f of the picture", m, n, float64(m)/float64(n), falseArea)
	if n < 500 || float64(m) < 0.95*float64(n) {
		t.Errorf("vtest.avi people: %d of %d person-frames masked (want ≥ 0.95 of ≥ 500)", m, n)
	}
}
