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
			// The margin (6 and 8 px), then out to even pixels.
			if r != (render.Rect{X0: 94, Y0: 42, X1: 168, Y1: 140}) {
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
	r = render.Grow(plan.Box{X: 1901, Y: 1071, W: 10, H: 9}, 0, 1920, 1080)
	if r != (render.Rect{X0: 1900, Y0: 1070, X1: 1912, Y1: 1080}) {
		t.Fatalf("%+v", r)
	}
	if _, err := render.New("swirl", 0); err == nil {
		t.Fatal("unknown style accepted")
	}
}

// The mosaic is a grid of tiles from the masked region's corner, each the
// rounded mean of the pixels it replaced: checked against a direct
// computation on noise, for boxes of many sizes and positions.
func TestMosaicTilesAreMeans(t *testing.T) {
	const w, h = 640, 360
	r := rand.New(rand.NewPCG(3, 4))
	m, err := render.New(plan.StyleMosaic, 0)
	if err != nil {
		t.Fatal(err)
	}
	for range 200 {
		box := plan.Box{X: r.IntN(w - 2), Y: r.IntN(h - 2)}
		box.W, box.H = 1+r.IntN(w-box.X), 1+r.IntN(h-box.Y)
		orig := noisy(w, h)
		f := &video.Frame{Width: w, Height: h, Data: append([]byte(nil), orig.Data...)}
		m.Apply(f, []plan.Box{box})
		g := render.Grow(box, 0, w, h)
		b := render.MosaicTile(min(g.X1-g.X0, g.Y1-g.Y0))
		if b%2 != 0 || b < 8 || b < min(g.X1-g.X0, g.Y1-g.Y0)/4 {
			t.Fatalf("region %+v: tile %d is odd, under 8 or more than four across", g, b)
		}
		c := render.Rect{X0: g.X0 / 2, Y0: g.Y0 / 2, X1: g.X1 / 2, Y1: g.Y1 / 2}
		checkMosaic(t, f.Y(), orig.Y(), w, g, b)
		checkMosaic(t, f.U(), orig.U(), w/2, c, b/2)
		checkMosaic(t, f.V(), orig.V(), w/2, c, b/2)
	}
}

func checkMosaic(t *testing.T, got, orig []byte, stride int, r render.Rect, b int) {
	t.Helper()
	for ty := r.Y0; ty < r.Y1; ty += b {
		for tx := r.X0; tx < r.X1; tx += b {
			x0, y0, x1, y1 := tx, ty, min(tx+b, r.X1), min(ty+b, r.Y1)
			sum, n := 0, (x1-x0)*(y1-y0)
			for y := y0; y < y1; y++ {
				for x := x0; x < x1; x++ {
					sum += int(orig[y*stride+x])
				}
			}
			want := byte((sum + n/2) / n)
			for y := y0; y < y1; y++ {
				for x := x0; x < x1; x++ {
					if got[y*stride+x] != want {
						t.Fatalf("box %+v tile %d at %d,%d: pixel %d,%d is %d, want the mean %d", r, b, tx, ty, x, y, got[y*stride+x], want)
					}
				}
			}
		}
	}
}

// BenchmarkStyles1080pFace masks one large face box of a 1080p frame.
func BenchmarkStyles1080pFace(b *testing.B) {
	f := noisy(1920, 1080)
	boxes := []plan.Box{{X: 700, Y: 200, W: 420, H: 520}}
	for _, style := range []string{plan.StyleMosaic, plan.StyleBlur, plan.StyleSolid} {
		b.Run(style, func(b *testing.B) {
			m, _ := render.New(style, 0.15)
			for b.Loop() {
				m.Apply(f, boxes)
			}
		})
	}
}
