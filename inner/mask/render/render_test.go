package render_test

import (
	"math/rand/v2"
	"testing"

	"sealgate/inner/mask/plan"
	"sealgate/inner/mask/render"
	"sealgate/inner/video"
)

func noisy(w, h int) *video.Frame {
	f := video.NewFrame(w, h)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range f.Data {
		f.Data[i] = byte(r.IntN(256))
	}
	return f
}

// Every style changes the inside of the box (detail gone) and nothing
// outside the grown box.
func TestStylesMaskInsideOnly(t *testing.T) {
	const w, h = 320, 240
	box := plan.Box{F: 0, X: 101, Y: 51, W: 60, H: 80}
	for _, style := range []string{plan.StyleMosaic, plan.StyleBlur, plan.StyleSolid} {
		t.Run(style, func(t *testing.T) {
			orig := noisy(w, h)
			f := &video.Frame{Width: w, Height: h, Data: append([]byte(nil), orig.Data...)}
			m, err := render.New(style, 0.1)
			if err != nil {
				t.Fatal(err)
			}
			m.Apply(f, []plan.Box{box})
			r := render.Grow(box, 0.1, w, h)
			if r.X0%2 != 0 || r.Y0%2 != 0 || r.X1%2 != 0 || r.Y1%2 != 0 || r.X0 > box.X-6 || r.X1 < box.X+box.W+6 {
				t.Fatalf("grown rect %+v", r)
			}
			y, oy := f.Y(), orig.Y()
			for py := range h {
				for px := range w {
					in := px >= r.X0 && px < r.X1 && py >= r.Y0 && py < r.Y1
					if !in && y[py*w+px] != oy[py*w+px] {
						t.Fatalf("pixel %d,%d outside the box changed", px, py)
					}
				}
			}
			// Detail inside: neighbouring-pixel differences drop from noise
			// (~85 on average) to almost nothing.
			var diff, n int
			for py := r.Y0; py < r.Y1; py++ {
				for px := r.X0 + 1; px < r.X1; px++ {
					d := int(y[py*w+px]) - int(y[py*w+px-1])
					diff += max(d, -d)
					n++
				}
			}
			if mean := float64(diff) / float64(n); mean > 12 {
				t.Fatalf("mean neighbour difference inside the box %.1f: detail survives", mean)
			}
		})
	}
}

func TestGrowClipsToFrame(t *testing.T) {
	r := render.Grow(plan.Box{X: 0, Y: 0, W: 10, H: 10}, 0.5, 8, 8)
	if r != (render.Rect{X0: 0, Y0: 0, X1: 8, Y1: 8}) {
		t.Fatalf("%+v", r)
	}
	if _, err := render.New("swirl", 0); err == nil {
		t.Fatal("unknown style accepted")
	}
}

func BenchmarkBlur1080pFace(b *testing.B) {
	f := noisy(1920, 1080)
	m, _ := render.New(plan.StyleBlur, 0.15)
	boxes := []plan.Box{{X: 800, Y: 300, W: 200, H: 240}}
	for b.Loop() {
		m.Apply(f, boxes)
	}
}
