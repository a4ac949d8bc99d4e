package watermark

// #cgo CFLAGS: -O3
// #cgo LDFLAGS: -lm
// #include "kernel.h"
import "C"

import "math"

// weightOne is the fixed-point scale of the bump weights (8 fractional bits).
const weightOne = 256

// grid maps a frame size onto the Cols × Rows cells: for every column and
// row, its cell and its weight in the cell's bump sin(π·t), t the position
// across the cell in [0,1). The bump is separable, so measuring and adding
// it costs one multiply per pixel, done over each cell's run of columns.
type grid struct {
	w, h int
	x0   [Cols + 1]int32 // cell c spans columns x0[c] ≤ x < x0[c+1]
	y0   [Rows + 1]int32 // and cell row r the rows y0[r] ≤ y < y0[r+1]
	cy   []uint8
	wx   []int16
	wy   []int16
	// col and pat are one row of work space each for the C loops (a grid
	// serves one goroutine); pat only once the grid marks.
	col []int32
	pat []int16
	acc []int64 // the measuring sums, per cell
	// sum is Σw over each cell and gain Σw/Σw²: a weighted-mean shift of
	// d levels needs a bump of peak d·gain.
	sum, gain [cells]float64
}

func newGrid(w, h int) *grid { return newCropGrid(w, h, 1, centre) }

// anchor places a crop in the frame that was marked: the share of what
// was cut that lay left of (or above) the window kept. {0.5, 0.5} is a
// centred crop, {0, 0} one that kept the top-left corner.
type anchor struct{ x, y float64 }

var centre = anchor{0.5, 0.5}

// newCropGrid is the grid of a w×h frame that is the fraction f (in both
// directions) of the frame that was marked, placed at a: what a crop
// leaves. Cells cut away entirely get no pixels.
func newCropGrid(w, h int, f float64, a anchor) *grid {
	g := &grid{w: w, h: h, col: make([]int32, w), acc: make([]int64, cells)}
	cx, wx := axis(w, Cols, f, a.x)
	g.cy, g.wy = axis(h, Rows, f, a.y)
	for x := range cx {
		g.x0[cx[x]+1] = int32(x + 1)
	}
	g.wx = wx
	for y := range g.cy {
		g.y0[g.cy[y]+1] = int32(y + 1)
	}
	for c := 1; c <= Cols; c++ { // cells with no columns: empty spans
		g.x0[c] = max(g.x0[c], g.x0[c-1])
	}
	for r := 1; r <= Rows; r++ {
		g.y0[r] = max(g.y0[r], g.y0[r-1])
	}
	var sx, sx2 [Cols]float64
	var sy, sy2 [Rows]float64
	for x, c := range cx {
		v := float64(wx[x]) / weightOne
		sx[c] += v
		sx2[c] += v * v
	}
	for y, r := range g.cy {
		v := float64(g.wy[y]) / weightOne
		sy[r] += v
		sy2[r] += v * v
	}
	for r := range Rows {
		for c := range Cols {
			i := r*Cols + c
			g.sum[i] = sx[c] * sy[r]
			if s2 := sx2[c] * sy2[r]; s2 > 0 {
				g.gain[i] = g.sum[i] / s2
			}
		}
	}
	return g
}

// axis splits n pixels, the fraction f of the marked frame with the share
// a of the cut before them, into k cells with their bump weights (at most
// weightOne).
func axis(n, k int, f, a float64) ([]uint8, []int16) {
	cell := make([]uint8, n)
	wt := make([]int16, n)
	full := float64(n) / f
	off := (full - float64(n)) * a
	for i := range n {
		pos := (float64(i) + 0.5 + off) * float64(k) / full
		c := min(int(pos), k-1)
		cell[i] = uint8(c)
		wt[i] = int16(math.Round(math.Sin(math.Pi*(pos-float64(c))) * weightOne))
	}
	return cell, wt
}

// measure returns every cell's bump-weighted luma mean, in 8-bit levels.
// y must hold g.w×g.h pixels (callers check the frame size).
func (g *grid) measure(y []byte, out *[cells]float64) {
	g.measureRows(y, 0, Rows, out)
}

// measureRows is measure for the cell rows r0 ≤ r < r1 only: the embedder
// measures and marks one cell row at a time, while its pixels are still in
// cache.
func (g *grid) measureRows(y []byte, r0, r1 int, out *[cells]float64) {
	y0, y1 := g.span(y, r0, r1)
	if y0 == y1 {
		return
	}
	acc := g.acc[r0*Cols : r1*Cols]
	clear(acc)
	C.wm_measure((*C.uint8_t)(&y[y0*g.w]), C.int(g.w), C.int(y1-y0), (*C.int32_t)(&g.x0[0]), (*C.uint8_t)(&g.cy[y0]),
		(*C.int16_t)(&g.wx[0]), (*C.int16_t)(&g.wy[y0]), (*C.int64_t)(&g.acc[0]), (*C.int32_t)(&g.col[0]))
	for i, a := range acc {
		if i += r0 * Cols; g.sum[i] > 0 {
			out[i] = float64(a) / (weightOne * weightOne) / g.sum[i]
		}
	}
}

// addRows adds peak[c]·bump to every cell c in the cell rows r0 ≤ r < r1 of
// y, rounding and clamping, and returns the sum of squared changes (for
// PSNR).
func (g *grid) addRows(y []byte, r0, r1 int, peak *[cells]float64) int64 {
	y0, y1 := g.span(y, r0, r1)
	if y0 == y1 {
		return 0
	}
	if g.pat == nil {
		g.pat = make([]int16, g.w)
	}
	return int64(C.wm_add((*C.uint8_t)(&y[y0*g.w]), C.int(g.w), C.int(y1-y0), (*C.int32_t)(&g.x0[0]), (*C.uint8_t)(&g.cy[y0]),
		(*C.int16_t)(&g.wx[0]), (*C.int16_t)(&g.wy[y0]), (*C.double)(&peak[0]), (*C.int16_t)(&g.pat[0])))
}

// span is the pixel rows of cell rows r0 ≤ r < r1, after checking y holds
// the whole frame.
func (g *grid) span(y []byte, r0, r1 int) (int, int) {
	if len(y) < g.w*g.h {
		panic("watermark: luma plane smaller than the grid's frame")
	}
	return int(g.y0[r0]), int(g.y0[r1])
}
