package mask_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"sealgate/inner/mask"
	"sealgate/inner/video"
	"sealgate/inner/video/videotest"
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
// encode in one pass) and render alone (no detectors) beside a plain ffmpeg
// transcode of the same clip in the same run. Budget (DESIGN.md §7): masking
// ≤ 1.5× the plain transcode, ≥ 25 fps at 1080p on 2 cores.
func BenchmarkMask(b *testing.B) {
	for _, h := range []int{720, 1080} {
		b.Run(map[int]string{720: "720p", 1080: "1080p"}[h], func(b *testing.B) {
			in := benchClip(b, h)
			info, err := video.Probe(context.Background(), in)
			if err != nil {
				b.Fatal(err)
			}
			var maskT, renderT, plainT time.Duration
			for b.Loop() {
				plainT += plainTranscode(b, in)
				for _, run := range []struct {
					detect []string
					t      *time.Duration
				}{{[]string{mask.DetectFaces, mask.DetectPlates}, &maskT}, {[]string{}, &renderT}} {
					out := filepath.Join(b.TempDir(), "m.mp4")
					start := time.Now()
					if _, err := mask.Mask(context.Background(), in, out, mask.Options{Detect: run.detect, Margin: mask.DefaultMargin, ModelsDir: videotest.Dir(b)}); err != nil {
						b.Fatal(err)
					}
					*run.t += time.Since(start)
					os.Remove(out)
				}
			}
			frames := float64(info.Frames() * b.N)
			b.ReportMetric(frames/maskT.Seconds(), "mask_fps")
			b.ReportMetric(frames/renderT.Seconds(), "render_only_fps")
			b.ReportMetric(frames/plainT.Seconds(), "ffmpeg_fps")
			b.ReportMetric(maskT.Seconds()/plainT.Seconds(), "mask/ffmpeg")
		})
	}
}
