package watermark

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestGridKernels checks the C loops against the arithmetic written out
// pixel by pixel, on a frame whose size splits into uneven cells and with
// peaks large enough to clamp at both ends of the levels.
func TestGridKernels(t *testing.T) {
	const w, h = 1000, 563
	rng := rand.New(rand.NewPCG(5, 6))
	y := make([]byte, w*h)
	for i := range y {
		y[i] = byte(rng.IntN(256))
	}
	for _, f := range []float64{1, 0.9} {
		g := newCropGrid(w, h, f, anchor{0.2, 1})

		var got [cells]float64
		g.measure(y, &got)
		var acc [cells]int64
		for r := range h {
			for x := range w {
				c := int(g.cy[r])*Cols + cellOf(g, x)
				acc[c] += int64(g.wy[r]) * int64(g.wx[x]) * int64(y[r*w+x])
			}
		}
		for c := range cells {
			want := 0.0
			if g.sum[c] > 0 {
				want = float64(acc[c]) / (weightOne * weightOne) / g.sum[c]
			}
			if got[c] != want {
				t.Fatalf("crop %v: cell %d measured %v, want %v", f, c, got[c], want)
			}
		}

		var peak [cells]float64
		for c := range peak {
			peak[c] = (rng.Float64() - 0.5) * 40
		}
		peak[0], peak[1] = 300, -300 // beyond the ±255 the kernel holds them to
		want := append([]byte(nil), y...)
		var wantSq int64
		for r := range h {
			for x := range w {
				p := max(-255, min(255, peak[int(g.cy[r])*Cols+cellOf(g, x)]))
				pat := int32(math.Round(p * float64(g.wx[x]) / 2))
				d := (pat*int32(g.wy[r])>>14 + 1) >> 1
				v := int32(want[r*w+x])
				n := max(0, min(255, v+d))
				want[r*w+x] = byte(n)
				wantSq += int64((n - v) * (n - v))
			}
		}
		out := append([]byte(nil), y...)
		if sq := g.addRows(out, 0, Rows, &peak); sq != wantSq {
			t.Errorf("crop %v: squared change %d, want %d", f, sq, wantSq)
		}
		for i := range out {
			if out[i] != want[i] {
				t.Fatalf("crop %v: pixel (%d,%d) = %d, want %d", f, i%w, i/w, out[i], want[i])
			}
		}
	}
}

func cellOf(g *grid, x int) int {
	for c := range Cols {
		if x < int(g.x0[c+1]) {
			return c
		}
	}
	return Cols - 1
}
