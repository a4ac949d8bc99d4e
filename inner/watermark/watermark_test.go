package watermark_test

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"sealgate/inner/video"
	"sealgate/inner/watermark"
)

// TestEmbedThenDetectFrames marks synthetic frames in memory and reads
// them back, at the size marked and after a change of brightness.
func TestEmbedThenDetectFrames(t *testing.T) {
	key := NewKey(t)
	p := watermark.ExportPayload(7, 1234)
	const w, h = 640, 360
	em, err := watermark.NewEmbedder(key, p, w, h, watermark.DefaultStep)
	if err != nil {
		t.Fatal(err)
	}
	det, _ := watermark.NewDetector(key, w, h, watermark.DefaultStep)
	bright, _ := watermark.NewDetector(key, w, h, watermark.DefaultStep)
	rng := rand.New(rand.NewPCG(3, 4))
	for range 3 {
		f := video.NewFrame(w, h)
		for i := range f.Data { // a gradient with noise
			f.Data[i] = uint8(16 + (i%w)*200/w + rng.IntN(20))
		}
		if err := em.Embed(f); err != nil {
			t.Fatal(err)
		}
		det.Add(f)
		for i := range f.Y() {
			f.Y()[i] = uint8(min(int(f.Y()[i])+11, 255))
		}
		bright.Add(f)
	}
	if psnr := em.PSNR(); psnr < 42 {
		t.Errorf("PSNR %.1f dB", psnr)
	}
	for name, d := range map[string]*watermark.Detector{"as marked": det, "brightness +11": bright} {
		r := d.Result()
		if !r.Found || r.Payload != p.String() || r.Agreement < 0.99 {
			t.Errorf("%s: %+v, want payload %s", name, r, p)
		}
		if r.PValue <= 0 || r.PValue > 1e-5 {
			t.Errorf("%s: p-value %g", name, r.PValue)
		}
	}
	if p.Appliance() != 7 || p.Serial() != 1234 || p.String() != "00070000000004d2" {
		t.Errorf("payload fields: %d %d %s", p.Appliance(), p.Serial(), p)
	}
	if q, err := watermark.ParsePayload(p.String()); err != nil || q != p {
		t.Errorf("ParsePayload(%s) = %v, %v", p, q, err)
	}
}

func TestBadArguments(t *testing.T) {
	if _, err := watermark.NewKey(make([]byte, 16)); err == nil {
		t.Error("a 16-byte key was accepted")
	}
	key := NewKey(t)
	if _, err := watermark.NewEmbedder(key, 1, 32, 32, watermark.DefaultStep); err == nil {
		t.Error("a frame smaller than the grid was accepted")
	}
	em, _ := watermark.NewEmbedder(key, 1, 640, 360, watermark.DefaultStep)
	if err := em.Embed(video.NewFrame(320, 180)); err == nil {
		t.Error("a frame of another size was marked")
	}
	for _, s := range []string{"", "123", "zz70000000004d20", "00070000000004d2ff"} {
		if _, err := watermark.ParsePayload(s); err == nil {
			t.Errorf("payload %q accepted", s)
		}
	}
}

// TestNoFalseDetections traces unmarked real footage, whole, with fresh
// key, and a marked clip with the wrong key: nothing may be found. Each
// trace's false-alarm bound is hypotheses × 2⁻³² (about 3.2 × 10⁻⁶).
func TestNoFalseDetections(t *testing.T) {
	// Ten seconds of each, as the robustness tests mark: a false payload
	// comes from the hypotheses searched (every one here), not the length.
	for _, asset := range []string{"vtest.avi", "Megamind.avi", "movie-hello.mp4", "phone-1080p.mp4"} {
		clip := Cut(t, asset)
		start := time.Now()
		r, err := watermark.Trace(context.Background(), clip, NewKey(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %d frames, %d hypotheses, %v", asset, r.Frames, r.Hypotheses, time.Since(start))
		if r.Found {
			t.Errorf("%s: false detection %+v", asset, r)
		}
		if r.PValue != 1 || r.Hypotheses < 10000 {
			t.Errorf("%s: not found should report p = 1 after the whole search: %+v", asset, r)
		}
	}
	m := MarkClip(t, "movie-hello.mp4")
	r, err := watermark.Trace(context.Background(), m.Path, NewKey(t))
	if err != nil {
		t.Fatal(err)
	}
	if r.Found {
		t.Errorf("another key read a payload: %+v", r)
	}
}
