package watermark_test

import (
	"context"
	"crypto/rand"
	"path/filepath"
	"sync"
	"testing"

	"sealgate/inner/mask"
	"sealgate/inner/video/videotest"
	"sealgate/inner/watermark"
)

// Attack is one way a leaked copy may have been re-made: ffmpeg output
// arguments applied to the marked clip.
type Attack struct {
	Name string
	Args []string
	// Required: the acceptance bar; the others are measured and
	// reported, and must never yield a wrong payload.
	Required bool
}

// Attacks is the robustness suite (also the table of make bench).
var Attacks = []Attack{
	{"none (as delivered)", nil, true},
	{"H.264 CRF 23", []string{"-c:v", "libx264", "-crf", "23"}, true},
	{"H.264 CRF 28", []string{"-c:v", "libx264", "-crf", "28"}, true},
	{"H.264 CRF 35", []string{"-c:v", "libx264", "-crf", "35"}, false},
	{"H.265 CRF 28", []string{"-c:v", "libx265", "-crf", "28", "-x265-params", "log-level=error"}, false},
	{"50% downscale", []string{"-vf", "scale=trunc(iw/4)*2:trunc(ih/4)*2", "-c:v", "libx264", "-crf", "23"}, true},
	{"15 fps", []string{"-vf", "fps=15", "-c:v", "libx264", "-crf", "23"}, true},
	{"10% crop", []string{"-vf", "crop=trunc(iw*0.45)*2:trunc(ih*0.45)*2", "-c:v", "libx264", "-crf", "23"}, true},
	{"10% crop, top left", []string{"-vf", "crop=trunc(iw*0.45)*2:trunc(ih*0.45)*2:0:0", "-c:v", "libx264", "-crf", "23"}, true},
	{"15% crop, right side", []string{"-vf", "crop=trunc(iw*0.425)*2:trunc(ih*0.425)*2:iw-ow:(ih-oh)/2", "-c:v", "libx264", "-crf", "23"}, true},
	{"brightness +15, contrast 1.1", []string{"-vf", "eq=brightness=0.06:contrast=1.1", "-c:v", "libx264", "-crf", "23"}, false},
	{"noise σ≈7", []string{"-vf", "noise=alls=12:allf=t", "-c:v", "libx264", "-crf", "23"}, false},
}

// Clips are the real footage marked: 10 s (or all) of each. The tests use
// the first two (a face close up; a noisy fixed CCTV camera), the benchmark
// all.
var Clips = []struct{ Name, Asset string }{
	{"movie-hello 720p", "movie-hello.mp4"},
	{"vtest CCTV 768×576", "vtest.avi"},
	{"Megamind 720×528", "Megamind.avi"},
}

// Marked is a clip cut to 10 s and marked with a random payload.
type Marked struct {
	Path    string
	Key     *watermark.Key
	Payload watermark.Payload
	Result  *mask.Result
}

// Cut is the first 10 s of the asset (all of a shorter one), re-encoded
// near-losslessly: what the tests mark and search.
func Cut(tb testing.TB, asset string) string {
	tb.Helper()
	src := filepath.Join(tb.TempDir(), "src.mp4")
	videotest.FFmpeg(tb, "-i", videotest.Asset(tb, asset), "-t", "10", "-an", "-c:v", "libx264", "-preset", "veryfast", "-crf", "12", src)
	return src
}

// MarkClip cuts 10 s of the asset and marks it.
func MarkClip(tb testing.TB, asset string) Marked {
	tb.Helper()
	dir := tb.TempDir()
	src := Cut(tb, asset)
	key := NewKey(tb)
	var b [8]byte
	rand.Read(b[:])
	p := watermark.Payload(uint64(b[0])<<56 | uint64(b[1])<<48 | uint64(b[2])<<40 | uint64(b[3])<<32 | uint64(b[4])<<24 | uint64(b[5])<<16 | uint64(b[6])<<8 | uint64(b[7]))
	out := filepath.Join(dir, "marked.mp4")
	res, err := mask.Mask(context.Background(), src, out, mask.Options{Detect: []string{}, Watermark: &mask.Watermark{Key: key, Payload: p}})
	if err != nil {
		tb.Fatal(err)
	}
	return Marked{Path: out, Key: key, Payload: p, Result: res}
}

// NewKey makes a fresh random key.
func NewKey(tb testing.TB) *watermark.Key {
	tb.Helper()
	secret := make([]byte, watermark.KeySize)
	rand.Read(secret)
	k, err := watermark.NewKey(secret)
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// Attacked applies a to the marked clip.
func Attacked(tb testing.TB, m Marked, a Attack) string {
	tb.Helper()
	if a.Args == nil {
		return m.Path
	}
	out := filepath.Join(tb.TempDir(), "attacked.mp4")
	videotest.FFmpeg(tb, append(append([]string{"-i", m.Path, "-an"}, a.Args...), out)...)
	return out
}

func TestRobustness(t *testing.T) {
	for _, clip := range Clips[:2] {
		t.Run(clip.Name, func(t *testing.T) {
			m := MarkClip(t, clip.Asset)
			if m.Result.WatermarkPSNR < 42 {
				t.Errorf("PSNR %.1f dB, want ≥ 42", m.Result.WatermarkPSNR)
			}
			t.Logf("marked %d frames, PSNR %.2f dB, payload %s", m.Result.Frames, m.Result.WatermarkPSNR, m.Payload)
			var wg sync.WaitGroup
			results := make([]*watermark.TraceResult, len(Attacks))
			errs := make([]error, len(Attacks))
			for i, a := range Attacks {
				wg.Go(func() {
					in := Attacked(t, m, a)
					results[i], errs[i] = watermark.Trace(context.Background(), in, m.Key)
				})
			}
			wg.Wait()
			for i, a := range Attacks {
				r, err := results[i], errs[i]
				if err != nil {
					t.Errorf("%s: %v", a.Name, err)
					continue
				}
				t.Logf("%-30s found=%v agreement=%.3f gain=%.4f offset=%.2f crop=%v%% %s frames=%d hypotheses=%d", a.Name, r.Found, r.Agreement, r.Gain, r.Offset, r.Crop, r.CropKept, r.Frames, r.Hypotheses)
				switch {
				case r.Found && r.Payload != m.Payload.String():
					t.Errorf("%s: WRONG payload %s, marked %s", a.Name, r.Payload, m.Payload)
				case !r.Found && a.Required:
					t.Errorf("%s: payload not recovered", a.Name)
				}
			}
		})
	}
}
