package mask_test

import (
	"context"
	"crypto/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"sealgate/inner/mask"
	"sealgate/inner/mask/detect"
	"sealgate/inner/video"
	"sealgate/inner/video/videotest"
	"sealgate/inner/watermark"
)

// benchClip is real footage at the benchmark's size: movie-hello (720p, a
// face in every frame, 8.3 s) as is, or upscaled to 1080p and played loops
// times over, made once per run.
func benchClip(b *testing.B, height, loops int) string {
	src := videotest.Asset(b, "movie-hello.mp4")
	if height == 720 && loops == 1 {
		return src
	}
	out := filepath.Join(b.TempDir(), "clip.mp4")
	videotest.FFmpeg(b, "-stream_loop", strconv.Itoa(loops-1), "-i", src, "-vf", "scale=-2:"+strconv.Itoa(height), "-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-an", out)
	return out
}

// plainTranscode is the baseline: ffmpeg alone, the same codec settings.
func plainTranscode(b *testing.B, in string) time.Duration {
	out := filepath.Join(b.TempDir(), "plain.mp4")
	start := time.Now()
	cmd := exec.Command("ffmpeg", "-nostdin", "-v", "error", "-y", "-i", in, "-an", "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-bf", "0", "-pix_fmt", "yuv420p", out)
	if o, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("ffmpeg: %v\n%s", err, o)
	}
	d := time.Since(start)
	os.Remove(out)
	return d
}

// BenchmarkMask reports, per clip size, whole masking (analysis + render +
// encode in one pass), render alone (no detectors) and render with the
// forensic watermark beside a plain ffmpeg transcode of the same clip in the
// same run. Budgets (DESIGN.md §7, issue 6): masking ≤ 1.5× the plain
// transcode, ≥ 25 fps at 1080p on 2 cores; the watermark adds ≤ 15 % to the
// render pass.
//
// The 33-second clip is the steady state: the short ones also carry what a
// run costs once (probing, loading the model, first touch of the frames in
// flight), and so does the plain ffmpeg they are compared with.
func BenchmarkMask(b *testing.B) {
	for _, c := range []struct {
		name          string
		height, loops int
	}{{"720p", 720, 1}, {"1080p", 1080, 1}, {"1080p-33s", 1080, 4}} {
		b.Run(c.name, func(b *testing.B) {
			in := benchClip(b, c.height, c.loops)
			info, err := video.Probe(context.Background(), in)
			if err != nil {
				b.Fatal(err)
			}
			secret := make([]byte, watermark.KeySize)
			rand.Read(secret)
			key, err := watermark.NewKey(secret)
			if err != nil {
				b.Fatal(err)
			}
			wm := &mask.Watermark{Key: key, Payload: watermark.ExportPayload(1, 42)}
			var maskT, renderT, markT, plainT time.Duration
			for b.Loop() {
				plainT += plainTranscode(b, in)
				for _, run := range []struct {
					detect []string
					wm     *mask.Watermark
					t      *time.Duration
				}{{[]string{mask.DetectFaces, mask.DetectPlates}, nil, &maskT}, {[]string{}, nil, &renderT}, {[]string{}, wm, &markT}} {
					out := filepath.Join(b.TempDir(), "m.mp4")
					start := time.Now()
					if _, err := mask.Mask(context.Background(), in, out, mask.Options{Detect: run.detect, Margin: mask.DefaultMargin, ModelsDir: videotest.Dir(b), Watermark: run.wm}); err != nil {
						b.Fatal(err)
					}
					*run.t += time.Since(start)
					os.Remove(out)
				}
			}
			frames := float64(info.Frames() * b.N)
			b.ReportMetric(frames/maskT.Seconds(), "mask_fps")
			b.ReportMetric(frames/renderT.Seconds(), "render_only_fps")
			b.ReportMetric(frames/markT.Seconds(), "render+watermark_fps")
			b.ReportMetric(100*(markT.Seconds()/renderT.Seconds()-1), "watermark_overhead_%")
			b.ReportMetric(frames/plainT.Seconds(), "ffmpeg_fps")
			b.ReportMetric(maskT.Seconds()/plainT.Seconds(), "mask/ffmpeg")
		})
	}
}

// BenchmarkAnalysisStages is where a detection frame's analysis time goes
// at 1080p (one real frame of movie-hello upscaled, analysed at 640 wide):
// the small copy, its colour version, BlazeFace and the plate localiser.
// The render pass is timed by BenchmarkMask.
func BenchmarkAnalysisStages(b *testing.B) {
	in := benchClip(b, 1080, 1)
	info, err := video.Probe(context.Background(), in)
	if err != nil {
		b.Fatal(err)
	}
	dec, err := video.NewDecoder(context.Background(), info, video.DecodeOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer dec.Close()
	f := video.NewFrame(info.Width, info.Height)
	for range 60 { // a frame with a face in it
		if _, err := dec.Next(f); err != nil {
			b.Fatal(err)
		}
	}
	small := detect.NewSmall(640)
	defer small.Close()
	faces, err := detect.NewFaces(filepath.Join(videotest.Dir(b), detect.BlazeFaceFile))
	if err != nil {
		b.Fatal(err)
	}
	defer faces.Close()
	plates := detect.NewPlates()
	defer plates.Close()
	load := func(b *testing.B) {
		if err := small.Load(f); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("small", func(b *testing.B) {
		for b.Loop() {
			load(b)
		}
	})
	b.Run("small+rgb", func(b *testing.B) {
		for b.Loop() {
			load(b)
			if _, err := small.RGB(); err != nil {
				b.Fatal(err)
			}
		}
	})
	load(b)
	b.Run("faces", func(b *testing.B) {
		for b.Loop() {
			if _, err := faces.Detect(small); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("plates", func(b *testing.B) {
		for b.Loop() {
			plates.Detect(small)
		}
	})
}
