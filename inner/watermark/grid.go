package watermark

import "math"

// weightOne is the fixed-point scale of the bump weights (8 fractional bits).
const weightOne = 256

// grid maps a frame size onto the Cols × Rows cells: for every column and
// row, its cell and its weight in the cell's bump sin(π·t), t the position
// across the cell in [0,1). The bump is separable, so measuring and adding
// it costs one multiply per pixel.
type grid struct {
	w, h   int
	cx, cy []uint8
	wx, wy []int32
	// sum is Σw over each cell and gain Σw/Σw²: a weighted-mean shift of
	// d levels needs a bump of peak d·gain.
	sum, gain [cells]float64
}

func newGrid(w, h int) *grid {
	g := &grid{w: w, h: h}
	g.cx, g.wx = axis(w, Cols)
	g.cy, g.wy = axis(h, Rows)
	var sx, sx2 [Cols]float64
	var sy, sy2 [Rows]float64
	for x, c := range g.cx {
		v := float64(g.wx[x]) / weightOne
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

// axis splits n pixels into k cells with their bump weights.
func axis(n, k int) ([]uint8, []int32) {
	cell := make([]uint8, n)
	wt := make([]int32, n)
	for i := range n {
		pos := (float64(i) + 0.5) * float64(k) / float64(n)
		c := min(int(pos), k-1)
		cell[i] = uint8(c)
		wt[i] = int32(math.Round(math.Sin(math.Pi*(pos-float64(c))) * weightOne))
	}
	return cell, wt
}

// measure returns every cell's bump-weighted luma mean, in 8-bit levels.
func (g *grid) measure(y []byte, out *[cells]float64) {
	var acc [cells]int64
	var row [Cols]int64
	for r := range g.h {
		line := y[r*g.w : r*g.w+g.w]
		cx, wx := g.cx[:len(line)], g.wx[:len(line)]
		for x, v := range line {
			row[cx[x]] += int64(wx[x]) * int64(v)
		}
		base := int(g.cy[r]) * Cols
		wy := int64(g.wy[r])
		for c := range row {
			acc[base+c] += row[c] * wy
			row[c] = 0
		}
	}
	for i := range out {
		if g.sum[i] > 0 {
			out[i] = float64(acc[i]) / (weightOne * weightOne) / g.sum[i]
		}
	}
}

// add adds peak[c]·bump to every cell c of y, rounding and clamping, and
// returns the sum of squared changes (for PSNR).
func (g *grid) add(y []byte, peak *[cells]float64) (sq int64) {
	var row [Cols]int32
	for r := range g.h {
		base := int(g.cy[r]) * Cols
		wy := float64(g.wy[r])
		for c := range row {
			// peak·wy/256 in 1/256 levels; times wx (1/256) gives 1/65536.
			row[c] = int32(math.Round(peak[base+c] * wy))
		}
		line := y[r*g.w : r*g.w+g.w]
		cx, wx := g.cx[:len(line)], g.wx[:len(line)]
		for x, v := range line {
			d := (row[cx[x]]*wx[x] + 1<<15) >> 16
			if d == 0 {
				continue
			}
			nv := min(max(int32(v)+d, 0), 255)
			line[x] = uint8(nv)
			sq += int64((nv - int32(v)) * (nv - int32(v)))
		}
	}
	return sq
}
