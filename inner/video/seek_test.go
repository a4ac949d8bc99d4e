package video_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"sealgate/inner/video"
	"sealgate/inner/video/videotest"
)

// At must give exactly the frame sequential decoding gives at that index,
// whatever came before: the review editor shows frame i and the tracker
// starts on it, while the render pass decodes in order.
func TestAtMatchesSequentialDecoding(t *testing.T) {
	raw := filepath.Join(t.TempDir(), "clip.h264")
	videotest.FFmpeg(t, "-i", videotest.Asset(t, "movie-hello.mp4"), "-frames:v", "120", "-an", "-c:v", "libx264", "-g", "25", "-bsf:v", "h264_mp4toannexb", "-f", "h264", raw)
	clips := []string{"movie-hello.mp4", "vtest.avi", "phone-1080p.mp4", "Megamind.avi"}
	for _, name := range append(clips, raw) {
		t.Run(filepath.Base(name), func(t *testing.T) {
			path := name
			if !filepath.IsAbs(name) {
				path = videotest.Asset(t, name)
			}
			ctx := context.Background()
			info, err := video.Probe(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			want := sequentialHashes(t, info)
			dec, err := video.NewDecoder(ctx, info, video.DecodeOptions{Width: 320})
			if err != nil {
				t.Fatal(err)
			}
			defer dec.Close()
			n := info.Frames()
			// Jumps back and far ahead, single steps, the ends, and random frames.
			order := []int{n - 1, 0, n / 2, n/2 + 1, n/2 + 3, n / 3, n - 2, 1, n / 2}
			rng := rand.New(rand.NewPCG(1, uint64(n)))
			for range 12 {
				order = append(order, rng.IntN(n))
			}
			w, h := dec.Size()
			f := video.NewFrame(w, h)
			for _, i := range order {
				if err := dec.At(i, f); err != nil {
					t.Fatalf("At(%d): %v", i, err)
				}
				if sha256.Sum256(f.Data) != want[i] {
					t.Fatalf("At(%d) gave another picture than frame %d decoded in order", i, i)
				}
			}
			// Next continues after the frame At gave.
			if err := dec.At(n/2, f); err != nil {
				t.Fatal(err)
			}
			if j, err := dec.Next(f); err != nil || j != n/2+1 || sha256.Sum256(f.Data) != want[j] {
				t.Fatalf("Next after At(%d): frame %d, %v", n/2, j, err)
			}
			if err := dec.At(n, f); err == nil {
				t.Fatal("At past the end gave no error")
			}
		})
	}
}

func sequentialHashes(t *testing.T, info *video.Info) [][32]byte {
	t.Helper()
	dec, err := video.NewDecoder(context.Background(), info, video.DecodeOptions{Width: 320})
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	f := video.NewFrame(dec.Size())
	var out [][32]byte
	for {
		i, err := dec.Next(f)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if i != len(out) {
			t.Fatalf("frame %d came as %d", len(out), i)
		}
		out = append(out, sha256.Sum256(f.Data))
	}
}
