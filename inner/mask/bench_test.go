package mask_test

import (
	"context"
	"crypto/rand"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"sealgate/inner/mask"
	"sealgate/inner/video"
	"sealgate/inner/video/videotest"
	"sealgate/inner/watermark"
)

// benchClip is real footage at the benchmark's size: movie-hello (720p, a
// face in every frame) as is, or upscaled to 1080p once per run.
func benchClip(b *testing.B, height int) string {
	src := videotest.Asset(b, "movie-hello.mp4")
	if height == 720 {
		return src
	}
	out := filepath.Join(b.TempDir(), "clip-1080p.mp4")
	videotest.FFmpeg(b, "-i", src, "-vf", "scale=-2:1080", "-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-an", out)
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
func BenchmarkMask(b *testing.B) {
	for _, h := range []int{720, 1080} {
		b.Run(map[int]string{720: "720p", 1080: "1080p"}[h], func(b *testing.B) {
			in := benchClip(b, h)
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
