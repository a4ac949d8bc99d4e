package detect

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sealgate/inner/video"
	"sealgate/inner/video/videotest"
)

// modelPath is the pinned face model in var/assets (make deps installs it).
func modelPath(t *testing.T) string { return modelPathB(t) }

func modelPathB(t testing.TB) string {
	t.Helper()
	p := filepath.Join(filepath.Dir(videotest.Asset(t, "movie-hello.mp4")), BlazeFaceFile)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("face model missing (run make deps): %v", err)
	}
	return p
}

// TestTrimmedInputFindsTheSameFaces: the network reshaped to a 16:9 frame
// (256×192) finds the faces the published 256×256 letterbox finds, with
// nearly the same boxes and scores, on real footage, whole frame (as the
// analysis runs it) and with tiles (as the leak check does). A 4:3 frame
// keeps the square input: 256×224 lost faces there.
func TestTrimmedInputFindsTheSameFaces(t *testing.T) {
	trimmed, err := NewFaces(modelPath(t))
	if err != nil {
		t.Fatal(err)
	}
	defer trimmed.Close()
	square, err := NewFaces(modelPath(t))
	if err != nil {
		t.Fatal(err)
	}
	defer square.Close()
	square.square = true

	total, matched, shift := 0, 0, 0.0
	for _, c := range []struct {
		clip  string
		every int
		size  image.Point // the trimmed network's input
	}{{"movie-hello.mp4", 4, image.Pt(256, 192)}, {"phone-1080p.mp4", 1, image.Pt(256, 192)},
		{"Megamind.avi", 4, image.Pt(256, 192)}, {"vtest.avi", 12, image.Pt(256, 256)}} {
		ctx := context.Background()
		info, err := video.Probe(ctx, videotest.Asset(t, c.clip))
		if err != nil {
			t.Fatal(err)
		}
		dec, err := video.NewDecoder(ctx, info, video.DecodeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		small := NewSmall(640)
		w, h := dec.Size()
		f := video.NewFrame(w, h)
		for i := 0; ; i++ {
			if _, err := dec.Next(f); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatal(err)
			}
			if i%c.every != 0 {
				continue
			}
			if err := small.Load(f); err != nil {
				t.Fatal(err)
			}
			for _, tiles := range []bool{false, true} {
				detect := func(f *Faces) ([]Box, error) {
					if tiles {
						return f.DetectTiles(small, 0.45)
					}
					return f.Detect(small)
				}
				want, err := detect(square)
				if err != nil {
					t.Fatal(err)
				}
				got, err := detect(trimmed)
				if err != nil {
					t.Fatal(err)
				}
				total += len(want)
				for _, x := range want {
					for _, y := range got {
						if iou(x.Rectangle, y.Rectangle) >= 0.6 {
							shift += y.Score - x.Score
							matched++
						}
					}
				}
				if !sameBoxes(want, got) {
					t.Errorf("%s frame %d (tiles %v): published input %s, trimmed %s", c.clip, i, tiles, boxes(want), boxes(got))
				}
			}
		}
		small.Close()
		dec.Close()
		if trimmed.nets[c.size] == nil || (c.size != image.Pt(256, 256) && len(trimmed.nets) < 2) {
			t.Errorf("%s: the %v network was not used (%d made)", c.clip, c.size, len(trimmed.nets))
		}
	}
	if total < 100 {
		t.Fatalf("only %d faces in the sample: the comparison says little", total)
	}
	// No drift of scores either way, which flips near the threshold would hide.
	if mean := shift / float64(matched); math.Abs(mean) > 0.01 {
		t.Errorf("scores moved by %+.3f on average over %d matched faces", mean, matched)
	} else {
		t.Logf("%d faces, %d matched; mean score change %+.4f", total, matched, mean)
	}
}

func boxes(bs []Box) string {
	var s []string
	for _, b := range bs {
		s = append(s, fmt.Sprintf("%v %.2f", b.Rectangle, b.Score))
	}
	return "[" + strings.Join(s, ", ") + "]"
}

// sameBoxes: every box of a scoring 0.55 or more (0.05 above the
// detector's own threshold: a face right at it may fall on either side) has
// one in b on the same face, IoU ≥ 0.6, with a score within 0.1, and the
// other way round. The two inputs place the picture
// differently against the stride-32 anchor grid (the square pads 56 rows,
// the trimmed 24), so the winning anchor can differ.
func sameBoxes(a, b []Box) bool {
	covered := func(x Box, in []Box) bool {
		for _, y := range in {
			if iou(x.Rectangle, y.Rectangle) >= 0.6 && math.Abs(x.Score-y.Score) <= 0.1 {
				return true
			}
		}
		return x.Score < 0.55
	}
	for _, x := range a {
		if !covered(x, b) {
			return false
		}
	}
	for _, y := range b {
		if !covered(y, a) {
			return false
		}
	}
	return true
}

// The rewrite touches exactly the size-bearing places of the graph, and
// refuses input sizes the grids cannot take.
func TestReshapeBlazeFace(t *testing.T) {
	b, err := os.ReadFile(modelPath(t))
	if err != nil {
		t.Fatal(err)
	}
	out, err := reshapeBlazeFace(b, 160, 256)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) >= len(b) || len(b)-len(out) > 64<<10 {
		t.Errorf("rewritten model is %d bytes from %d: more than value_info went", len(out), len(b))
	}
	for _, s := range [][2]int{{150, 256}, {288, 256}, {0, 256}} {
		if _, err := reshapeBlazeFace(b, s[0], s[1]); err == nil {
			t.Errorf("%d×%d accepted", s[1], s[0])
		}
	}
	if _, err := reshapeBlazeFace(out, 96, 256); !errors.Is(err, ErrModelLayout) {
		t.Errorf("a graph already reshaped: %v, want ErrModelLayout", err)
	}
}

// BenchmarkFaceInput: one whole-frame detection on a 16:9 frame with the
// published 256×256 input beside the trimmed 256×192 one.
func BenchmarkFaceInput(b *testing.B) {
	ctx := context.Background()
	info, err := video.Probe(ctx, videotest.Asset(b, "movie-hello.mp4"))
	if err != nil {
		b.Fatal(err)
	}
	dec, err := video.NewDecoder(ctx, info, video.DecodeOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer dec.Close()
	w, h := dec.Size()
	f := video.NewFrame(w, h)
	if _, err := dec.Next(f); err != nil {
		b.Fatal(err)
	}
	small := NewSmall(640)
	defer small.Close()
	if err := small.Load(f); err != nil {
		b.Fatal(err)
	}
	for _, square := range []bool{true, false} {
		name := "256x192"
		if square {
			name = "256x256"
		}
		b.Run(name, func(b *testing.B) {
			faces, err := NewFaces(modelPathB(b))
			if err != nil {
				b.Fatal(err)
			}
			defer faces.Close()
			faces.square = square
			for b.Loop() {
				if _, err := faces.Detect(small); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// FuzzReshapeBlazeFace: the rewrite never panics on a damaged or foreign
// graph; it returns the rewritten model or an error. (The model file is
// pinned by its checksum; this keeps the parser honest all the same.)
func FuzzReshapeBlazeFace(f *testing.F) {
	b, err := os.ReadFile(modelPathB(f))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add(b[:len(b)/3])
	f.Add([]byte{0x3a, 0x05, 0x2a, 0x03, 0x0a, 0x01, 0x08})
	f.Fuzz(func(t *testing.T, model []byte) {
		out, err := reshapeBlazeFace(model, 192, 256)
		if err == nil && len(out) == 0 {
			t.Fatal("no error and no model")
		}
	})
}
