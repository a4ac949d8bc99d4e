package render_test

import (
	"math"
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

// The blur, computed at reduced size, stays close to the Gaussian it
// stands for (sigma the radius, edges clamped to the region) on a gradient
// under noise, and keeps the region's mean: a blur, not a fill.
func TestBlurIsGaussian(t *testing.T) {
	const w, h = 640, 480
	for _, box := range []plan.Box{{X: 100, Y: 60, W: 300, H: 360}, {X: 7, Y: 9, W: 41, H: 33}, {X: 500, Y: 400, W: 140, H: 80}} {
		orig := noisy(w, h)
		for y := range h { // a diagonal gradient under ±32 of noise
			for x := range w {
				orig.Data[y*w+x] = byte(min(255, max(0, (x+y)*255/(w+h)+int(orig.Data[y*w+x])/4-32)))
			}
		}
		f := &video.Frame{Width: w, Height: h, Data: append([]byte(nil), orig.Data...)}
		m, _ := render.New(plan.StyleBlur, 0)
		m.Apply(f, []plan.Box{box})
		r := render.Grow(box, 0, w, h)
		rad := max(4, min(r.X1-r.X0, r.Y1-r.Y0)/5)
		want := gaussian(orig.Y(), w, r, float64(rad))
		var diff, sumGot, sumOrig float64
		n := float64((r.X1 - r.X0) * (r.Y1 - r.Y0))
		for y := r.Y0; y < r.Y1; y++ {
			for x := r.X0; x < r.X1; x++ {
				g := float64(f.Y()[y*w+x])
				diff += math.Abs(g - want[(y-r.Y0)*(r.X1-r.X0)+x-r.X0])
				sumGot += g
				sumOrig += float64(orig.Y()[y*w+x])
			}
		}
		if d := diff / n; d > 2.5 {
			t.Errorf("box %+v: mean difference from the Gaussian %.2f levels", box, d)
		}
		if d := math.Abs(sumGot-sumOrig) / n; d > 1.5 {
			t.Errorf("box %+v: region mean moved %.2f levels", box, d)
		}
	}
}

// gaussian blurs region r of plane p (stride w) with sigma s, separably,
// clamping at the region's edges: the reference the blur style stands for.
func gaussian(p []byte, w int, r render.Rect, s float64) []float64 {
	rw, rh := r.X1-r.X0, r.Y1-r.Y0
	rad := int(3 * s)
	k := make([]float64, 2*rad+1)
	var sum float64
	for i := range k {
		d := float64(i - rad)
		k[i] = math.Exp(-d * d / (2 * s * s))
		sum += k[i]
	}
	tmp, out := make([]float64, rw*rh), make([]float64, rw*rh)
	for y := range rh {
		for x := range rw {
			var v float64
			for i, kv := range k {
				xx := min(max(x+i-rad, 0), rw-1)
				v += kv * float64(p[(r.Y0+y)*w+r.X0+xx])
			}
			tmp[y*rw+x] = v / sum
		}
	}
	for y := range rh {
		for x := range rw {
			var v float64
			for i, kv := range k {
				v += kv * tmp[min(max(y+i-rad, 0), rh-1)*rw+x]
			}
			out[y*rw+x] = v / sum
		}
	}
	return out
}
