package watermark

import (
	"fmt"
	"math"

	"sealgate/inner/video"
)

// Embedder marks the frames of one video, in order.
type Embedder struct {
	key  *Key
	step float64
	grid *grid
	// offset[c] places cell c's lattice: its dither plus half a step for a
	// coded 1.
	offset [cells]float64
	// target is each cell's value last frame (NaN before the first): kept
	// while within reach, so a still scene gets the same change every frame
	// instead of flickering between two lattice points.
	target  [cells]float64
	m, peak [cells]float64
	sq, px  float64 // squared luma change and pixels so far, for PSNR
}

// NewEmbedder prepares to mark w×h frames with p.
func NewEmbedder(key *Key, p Payload, w, h int, step float64) (*Embedder, error) {
	if w < Cols || h < Rows {
		return nil, fmt.Errorf("watermark: %d×%d is smaller than the %d×%d grid", w, h, Cols, Rows)
	}
	if step <= 0 || step > 32 {
		return nil, fmt.Errorf("watermark: step %v is not within (0, 32]", step)
	}
	e := &Embedder{key: key, step: step, grid: newGrid(w, h)}
	coded := encode(key.message(p))
	for c := range cells {
		e.offset[c] = key.dither[c] + float64(coded[key.bit[c]]^key.flip[c])/2
		e.target[c] = math.NaN()
	}
	return e, nil
}

// hysteresis is how far (in steps) a cell may drift from last frame's
// target before it moves to the nearest lattice point.
const hysteresis = 0.65

// Embed marks f in place. f must have the size the embedder was made for.
func (e *Embedder) Embed(f *video.Frame) error {
	if f.Width != e.grid.w || f.Height != e.grid.h {
		return fmt.Errorf("watermark: frame is %d×%d, embedder made for %d×%d", f.Width, f.Height, e.grid.w, e.grid.h)
	}
	// Cell row by cell row, so the rows marked are the rows just measured,
	// still in cache: a cell's mark depends only on its own mean.
	y := f.Y()
	for r := range Rows {
		e.grid.measureRows(y, r, r+1, &e.m)
		for c := r * Cols; c < (r+1)*Cols; c++ {
			m, t := e.m[c], e.target[c]
			if math.IsNaN(t) || math.Abs(m-t) > hysteresis*e.step {
				t = e.step * (math.Round(m/e.step-e.offset[c]) + e.offset[c])
				// Keep the target inside the levels a pixel can take.
				if t < 2 {
					t += e.step
				} else if t > 253 {
					t -= e.step
				}
			}
			e.target[c] = t
			e.peak[c] = (t - m) * e.grid.gain[c]
		}
		e.sq += float64(e.grid.addRows(y, r, r+1, &e.peak))
	}
	e.px += float64(len(f.Y()))
	return nil
}

// PSNR is the luma peak signal-to-noise ratio of the marks so far, in dB,
// against the frames as they were given (before any encoder).
func (e *Embedder) PSNR() float64 {
	if e.sq == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(255*255*e.px/e.sq)
}
