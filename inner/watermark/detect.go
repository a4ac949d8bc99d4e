package watermark

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"math/cmplx"
	"slices"

	"sealgate/inner/video"
)

// Result is what the detector concludes.
type Result struct {
	Found   bool   `json:"found"`
	Payload string `json:"payload,omitempty"` // 16 hex digits
	// PValue bounds the chance that a video not marked with this key gives
	// any valid payload under the search made: hypotheses × 2⁻³².
	PValue float64 `json:"p_value"`
	// Agreement is the fraction of the 306 coded bits whose accumulated
	// soft decision agrees with the decoded codeword (0.5 is chance).
	Agreement  float64 `json:"agreement,omitempty"`
	Frames     int     `json:"frames"`
	Hypotheses int     `json:"hypotheses"`
	// Gain and Offset are the luma change found between the marked video
	// and the copy (1 and 0 for a plain re-encode).
	Gain   float64 `json:"gain,omitempty"`
	Offset float64 `json:"offset,omitempty"`
	// Crop is the percentage cut from each dimension when the copy was
	// found to be cropped, and CropKept which part of the frame the crop
	// kept ("centre", "top left", "right", …).
	Crop     float64 `json:"crop_percent,omitempty"`
	CropKept string  `json:"crop_kept,omitempty"`
}

// Gains searched: none, the limited↔full range conversions, then (only if
// those find nothing) a fine sweep covering contrast edits of ±20 %.
var (
	standardGains = []float64{1, 219.0 / 255, 255.0 / 219}
	sweepGains    = func() []float64 {
		var g []float64
		for a := 0.8; a <= 1.25; a += 0.0025 {
			g = append(g, a)
		}
		return g
	}()
)

// sweepFrames bounds the frames the fine gain sweep reads (evenly spaced):
// a few seconds decode even after heavy re-encoding, and the sweep is the
// costly part of a search that finds nothing in unmarked video.
const sweepFrames = 100

// Centred crops searched when nothing else decodes: the suspect is the
// centre fraction f of the marked frame, f from 0.99 down to 0.80 (a 20 %
// crop). A misplaced grid loses the mark, so the steps are fine: at 0.25 %
// the outermost cells are off by under a tenth of a cell. The first
// CropFrames frames are measured under every hypothesis.
var cropFractions = func() []float64 {
	var f []float64
	for i := range 77 {
		f = append(f, 0.99-float64(i)*0.0025)
	}
	return f
}()

const CropFrames = 40

// Off-centre crops: the same fractions, keeping a corner or the middle of
// a side. Decoding all of them would multiply the hypotheses (and so the
// false-alarm bound) by nine, so each is only scored (how strongly its
// cells' phases agree within each coded bit, which needs no payload) on a
// second reading of the first CropFrames frames, made when nothing else
// decoded, and the best syncTries are decoded.
var cropAnchors = []struct {
	anchor
	name string
}{
	{anchor{0, 0}, "top left"}, {anchor{1, 0}, "top right"}, {anchor{0, 1}, "bottom left"}, {anchor{1, 1}, "bottom right"},
	{anchor{0.5, 0}, "top"}, {anchor{0.5, 1}, "bottom"}, {anchor{0, 0.5}, "left"}, {anchor{1, 0.5}, "right"},
}

const syncTries = 4

// offsetSteps is how finely the global luma offset is searched, per step.
const offsetSteps = 32

// MaxFrames bounds the frames one detector keeps (two minutes at 25 fps):
// enough to accumulate any mark, and a bound on memory for long suspects.
const MaxFrames = 3000

// Detector reads the frames of one suspect copy.
type Detector struct {
	key    *Key
	step   float64
	grid   *grid
	frames [][cells]float32
	// crops[i] are the first frames measured as the centre cropFractions[i]
	// of the marked frame.
	cropGrids []*grid
	crops     [][][cells]float32
	// offCentre are the off-centre crop hypotheses, accumulated at gain 1.
	offCentre []*offCentre
}

type offCentre struct {
	grid *grid
	f    float64
	name string
	z    phasors
}

// NewDetector prepares to read w×h frames (the suspect's own size).
func NewDetector(key *Key, w, h int, step float64) (*Detector, error) {
	if w < Cols || h < Rows {
		return nil, fmt.Errorf("watermark: %d×%d is smaller than the %d×%d grid", w, h, Cols, Rows)
	}
	d := &Detector{key: key, step: step, grid: newGrid(w, h), crops: make([][][cells]float32, len(cropFractions))}
	for _, f := range cropFractions {
		d.cropGrids = append(d.cropGrids, newCropGrid(w, h, f, centre))
	}
	return d, nil
}

func measure32(g *grid, y []byte) [cells]float32 {
	var m [cells]float64
	g.measure(y, &m)
	var v [cells]float32
	for i := range m {
		v[i] = float32(m[i])
	}
	return v
}

// ErrEnough is returned by Add once MaxFrames are held.
var ErrEnough = errors.New("watermark: detector holds enough frames")

// Add measures one frame of the size the detector was made for.
func (d *Detector) Add(f *video.Frame) error {
	if f.Width != d.grid.w || f.Height != d.grid.h {
		return fmt.Errorf("watermark: frame is %d×%d, detector made for %d×%d", f.Width, f.Height, d.grid.w, d.grid.h)
	}
	if len(d.frames) >= MaxFrames {
		return ErrEnough
	}
	d.frames = append(d.frames, measure32(d.grid, f.Y()))
	if len(d.frames) <= CropFrames {
		for i, g := range d.cropGrids {
			d.crops[i] = append(d.crops[i], measure32(g, f.Y()))
		}
	}
	return nil
}

// AddOffCentre measures one of the first CropFrames frames under every
// off-centre crop hypothesis. It is a second reading, made only when
// Result found nothing: 616 grids cost seconds a trace at 1080p.
func (d *Detector) AddOffCentre(f *video.Frame) error {
	if f.Width != d.grid.w || f.Height != d.grid.h {
		return fmt.Errorf("watermark: frame is %d×%d, detector made for %d×%d", f.Width, f.Height, d.grid.w, d.grid.h)
	}
	if d.offCentre == nil { // made on first use: 616 grids are about 20 MB at 1080p
		for _, f := range cropFractions {
			for _, a := range cropAnchors {
				d.offCentre = append(d.offCentre, &offCentre{grid: newCropGrid(d.grid.w, d.grid.h, f, a.anchor), f: f, name: a.name})
			}
		}
	}
	for _, o := range d.offCentre {
		m := measure32(o.grid, f.Y())
		o.z.add(d.key, &m, d.step)
	}
	return nil
}

// Result searches the accumulated frames for a payload.
func (d *Detector) Result() Result {
	res := Result{Frames: len(d.frames), PValue: 1}
	if len(d.frames) == 0 {
		return res
	}
	sampled := d.frames
	if len(sampled) > sweepFrames {
		sampled = make([][cells]float32, sweepFrames)
		for i := range sampled {
			sampled[i] = d.frames[i*len(d.frames)/sweepFrames]
		}
	}
	// The searches, cheapest and likeliest first.
	type search struct {
		frames [][cells]float32
		gains  []float64
		crop   float64 // percent cut from each dimension
	}
	searches := []search{{d.frames, standardGains, 0}, {sampled, sweepGains, 0}}
	for i, frames := range d.crops {
		searches = append(searches, search{frames, standardGains, math.Round((1-cropFractions[i])*1000) / 10})
	}
	for _, s := range searches {
		for _, a := range s.gains {
			res.Hypotheses += offsetSteps
			var z phasors
			for _, m := range s.frames {
				z.add(d.key, &m, a*d.step)
			}
			if r, ok := d.decode(&z, a); ok {
				r.Frames, r.Hypotheses, r.Crop = res.Frames, res.Hypotheses, s.crop
				if s.crop > 0 {
					r.CropKept = "centre"
				}
				r.PValue = pValue(r.Hypotheses)
				return r
			}
		}
	}
	return res
}

// ResultOffCentre continues a search that found nothing (res, from Result)
// with the off-centre crops that line up best, at gain 1, once the first
// frames have been given to AddOffCentre.
func (d *Detector) ResultOffCentre(res Result) Result {
	if res.Found {
		return res
	}
	best := slices.Clone(d.offCentre)
	slices.SortStableFunc(best, func(a, b *offCentre) int { return cmp.Compare(b.z.sync(), a.z.sync()) })
	for _, o := range best[:min(syncTries, len(best))] {
		res.Hypotheses += offsetSteps
		if r, ok := d.decode(&o.z, 1); ok {
			r.Frames, r.Hypotheses = res.Frames, res.Hypotheses
			r.Crop, r.CropKept = math.Round((1-o.f)*1000)/10, o.name
			r.PValue = pValue(r.Hypotheses)
			return r
		}
	}
	return res
}

// pValue is the false-alarm bound for n hypotheses each passing a 32-bit
// check by chance.
func pValue(n int) float64 { return min(1, float64(n)*math.Exp2(-32)) }

// phasors holds every cell's soft decision accumulated per coded bit, as
// a phasor whose angle is the cell's place between lattice points, and the
// number of cells added.
type phasors struct {
	z [codedBits]complex128
	n int
}

// add accumulates one frame's cell values, read with lattice step step.
func (p *phasors) add(k *Key, m *[cells]float32, step float64) {
	for c, v := range m {
		if v < 3 || v > 252 { // clipped cells carry nothing
			continue
		}
		q := turn(float64(v)/step - k.dither[c])
		if k.flip[c] == 1 {
			q = -q
		}
		p.z[k.bit[c]] += q
		p.n++
	}
}

// turnSteps is the resolution of turnTable: interpolated between its
// entries, a phase is within 3·10⁻⁷ of math.Sincos's, far below the noise
// of any cell, at a sixth of the cost (a trace adds a phasor per cell, frame
// and candidate grid: math.Sincos was a third of a trace's time).
const turnSteps = 4096

// turnTable holds cos and sin of 2πi/turnSteps, i = 0…turnSteps.
var turnTable = func() (t [turnSteps + 1][2]float64) {
	for i := range t {
		s, c := math.Sincos(2 * math.Pi * float64(i) / turnSteps)
		t[i] = [2]float64{c, s}
	}
	return t
}()

// turn is e^(2πix).
func turn(x float64) complex128 {
	u := (x - math.Floor(x)) * turnSteps
	i := min(int(u), turnSteps-1) // x just below an integer can round to u = turnSteps
	f := u - float64(i)
	a, b := &turnTable[i], &turnTable[i+1]
	return complex(a[0]+f*(b[0]-a[0]), a[1]+f*(b[1]-a[1]))
}

// sync is how strongly the cells of each coded bit agree: about 1 for
// cells read on a grid that does not line up with the mark, growing with
// the frames read when it does.
func (p *phasors) sync() float64 {
	if p.n == 0 {
		return 0
	}
	var e float64
	for _, z := range p.z {
		e += real(z)*real(z) + imag(z)*imag(z)
	}
	return e / float64(p.n)
}

// decode tries each global offset (a rotation of the phasors) through the
// Viterbi decoder and the check; a is the luma gain they were read at.
func (d *Detector) decode(p *phasors, a float64) (Result, bool) {
	k := d.key
	z := &p.z
	soft := make([]float64, codedBits)
	for i := range offsetSteps {
		rot := cmplx.Rect(1, -2*math.Pi*float64(i)/offsetSteps)
		for j := range z {
			soft[j] = real(z[j] * rot)
		}
		bits := decode(soft)
		p, ok := k.open(bits)
		if !ok {
			continue
		}
		coded := encode(bits)
		agree := 0
		for j, b := range coded {
			if (soft[j] > 0) == (b == 0) {
				agree++
			}
		}
		return Result{
			Found: true, Payload: p.String(),
			Agreement: float64(agree) / codedBits,
			Gain:      a,
			// Phase i/offsetSteps of a step at gain a is this many levels.
			Offset: math.Round(float64(i)/offsetSteps*a*d.step*100) / 100,
		}, true
	}
	return Result{}, false
}

// Frames is the number of frames read so far.
func (d *Detector) Frames() int { return len(d.frames) }
