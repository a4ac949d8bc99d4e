package mask_test

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gocv.io/x/gocv"

	"sealgate/inner/mask"
	"sealgate/inner/mask/plan"
	"sealgate/inner/video/videotest"
)

// plateFont draws the plates; fonts-nanum is installed by make deps.
const plateFont = "/usr/share/fonts/truetype/nanum/NanumGothicBold.ttf"

// A Korean plate design: size in millimetres (drawn 1 px per mm), colours and
// one or two lines of text.
type plateStyle struct {
	name           string
	w, h           int
	bg, fg         string
	lines          []string
	sizes, offsets []int // font size and top of each line
}

var plateStyles = []plateStyle{
	{"white 520×110 (2019–)", 520, 110, "white", "black", []string{"123가 4567"}, []int{92}, nil},
	{"white 520×110 (2006–)", 520, 110, "white", "black", []string{"34나 5678"}, []int{92}, nil},
	{"EV blue 520×110", 520, 110, "0x7EC4E8", "black", []string{"157더 2468"}, []int{92}, nil},
	{"green two-line 335×170", 335, 170, "0x2F6B45", "white", []string{"서울 12", "가 3456"}, []int{52, 86}, []int{12, 70}},
	{"yellow two-line 335×170", 335, 170, "0xF2C200", "0x1C2A5A", []string{"부산 34", "바 7890"}, []int{52, 86}, []int{12, 70}},
}

// render draws the plate with ffmpeg's drawtext into a PNG and loads it.
func (s plateStyle) render(t testing.TB, dir string) gocv.Mat {
	t.Helper()
	if _, err := os.Stat(plateFont); err != nil {
		t.Fatalf("the plate font is missing (apt-get install fonts-nanum; make deps does): %v", err)
	}
	vf := []string{fmt.Sprintf("drawbox=x=0:y=0:w=iw:h=ih:c=%s:t=4", s.fg)}
	for i, line := range s.lines {
		y := "(h-th)/2"
		if s.offsets != nil {
			y = fmt.Sprint(s.offsets[i])
		}
		vf = append(vf, fmt.Sprintf("drawtext=fontfile=%s:text='%s':fontsize=%d:fontcolor=%s:x=(w-tw)/2:y=%s", plateFont, line, s.sizes[i], s.fg, y))
	}
	out := filepath.Join(dir, strings.NewReplacer(" ", "-", "×", "x").Replace(s.name)+".png")
	videotest.FFmpeg(t, "-f", "lavfi", "-i", fmt.Sprintf("color=c=%s:s=%dx%d", s.bg, s.w, s.h), "-vf", strings.Join(vf, ","), "-frames:v", "1", out)
	m := gocv.IMRead(out, gocv.IMReadColor)
	if m.Empty() {
		t.Fatalf("cannot read the rendered plate %s", out)
	}
	return m
}

// The car's own plate in car-rear.jpg (600×482, blurred US plate), found
// by eye on a gridded enlargement; the recess is painted over first.
var (
	carRecess = image.Rect(214, 223, 370, 306)
	carPlateC = image.Pt(291, 265) // where our plate's centre goes
	carPlateW = 150                // our plate's width on the car, in car pixels
)

// carWithPlate paints over the car's plate and puts plate p on it; it
// returns the car image and the plate's corners in car pixels.
func carWithPlate(car, p gocv.Mat) (gocv.Mat, [4]gocv.Point2f) {
	out := car.Clone()
	// Fill the recess column by column between the rows above and below.
	for x := carRecess.Min.X; x < carRecess.Max.X; x++ {
		for c := range 3 {
			a := float64(out.GetVecbAt(carRecess.Min.Y-1, x)[c])
			b := float64(out.GetVecbAt(carRecess.Max.Y, x)[c])
			for y := carRecess.Min.Y; y < carRecess.Max.Y; y++ {
				u := float64(y-carRecess.Min.Y+1) / float64(carRecess.Dy()+1)
				out.SetUCharAt(y, x*3+c, uint8(a+u*(b-a)+0.5))
			}
		}
	}
	h := carPlateW * p.Rows() / p.Cols()
	small := gocv.NewMat()
	defer small.Close()
	gocv.Resize(p, &small, image.Pt(carPlateW, h), 0, 0, gocv.InterpolationArea)
	r := image.Rect(carPlateC.X-carPlateW/2, carPlateC.Y-h/2, carPlateC.X-carPlateW/2+carPlateW, carPlateC.Y-h/2+h)
	region := out.Region(r)
	small.CopyTo(&region)
	region.Close()
	x0, y0, x1, y1 := float32(r.Min.X), float32(r.Min.Y), float32(r.Max.X), float32(r.Max.Y)
	return out, [4]gocv.Point2f{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}}
}

// project maps a point through the 3×3 perspective matrix m.
func project(m gocv.Mat, p gocv.Point2f) (float64, float64) {
	x, y := float64(p.X), float64(p.Y)
	w := m.GetDoubleAt(2, 0)*x + m.GetDoubleAt(2, 1)*y + m.GetDoubleAt(2, 2)
	return (m.GetDoubleAt(0, 0)*x + m.GetDoubleAt(0, 1)*y + m.GetDoubleAt(0, 2)) / w,
		(m.GetDoubleAt(1, 0)*x + m.GetDoubleAt(1, 1)*y + m.GetDoubleAt(1, 2)) / w
}

// An approaching car: frames of one plate style, the plate growing from
// minW to maxW pixels wide, for each yaw.
type approach struct {
	frames int
	quads  [][4][2]float64 // the plate's corners in each frame
	widths []float64       // the plate's width in each frame
}

const (
	clipW, clipH     = 1280, 720
	approachFrames   = 50
	minPlateW        = 40.0
	maxPlateW        = 280.0
	compositeCRF     = "26"
	coverageSamplesX = 9
	coverageSamplesY = 4
	// plateFloor is the narrowest plate (px at 720p) the localiser is held
	// to: 40 px in the 640-wide analysis copy, where characters are 7 px.
	plateFloor = 80.0
)

var yaws = []float64{0, 25, -25}

// makeClip composes one H.264 clip per plate style: a car on a real street
// (a frame of vtest.avi) driving towards the camera at three angles.
func makeClip(t testing.TB, dir string, car, bg gocv.Mat, s plateStyle) (string, *approach) {
	t.Helper()
	p := s.render(t, dir)
	defer p.Close()
	withPlate, corners := carWithPlate(car, p)
	defer withPlate.Close()

	out := filepath.Join(dir, strings.NewReplacer(" ", "-", "×", "x").Replace(s.name)+".mp4")
	enc := newClipWriter(t, out, clipW, clipH, 25)
	a := &approach{}
	frame := gocv.NewMat()
	defer frame.Close()
	cw, ch := float64(car.Cols()), float64(car.Rows())
	src := gocv.NewPoint2fVectorFromPoints([]gocv.Point2f{{X: 0, Y: 0}, {X: float32(cw), Y: 0}, {X: float32(cw), Y: float32(ch)}, {X: 0, Y: float32(ch)}})
	defer src.Close()
	for _, yaw := range yaws {
		for i := range approachFrames {
			pw := minPlateW * math.Pow(maxPlateW/minPlateW, float64(i)/float64(approachFrames-1))
			k := pw / float64(carPlateW) // frame pixels per car pixel
			w, h := cw*k, ch*k
			// Seen at an angle the car is narrower, its near side taller.
			c, sn := math.Cos(yaw*math.Pi/180), math.Sin(yaw*math.Pi/180)*0.25
			w *= c
			cx := clipW/2 + (1-float64(i)/approachFrames)*120 // drifting towards the centre
			bottom := 430 + 0.4*h
			x0, x1 := cx-w/2, cx+w/2
			hl, hr := h*(1+sn), h*(1-sn)
			dst := gocv.NewPoint2fVectorFromPoints([]gocv.Point2f{
				{X: float32(x0), Y: float32(bottom - hl)}, {X: float32(x1), Y: float32(bottom - hr)},
				{X: float32(x1), Y: float32(bottom)}, {X: float32(x0), Y: float32(bottom)}})
			m := gocv.GetPerspectiveTransform2f(src, dst)
			dst.Close()
			bg.CopyTo(&frame)
			gocv.WarpPerspectiveWithParams(withPlate, &frame, m, image.Pt(clipW, clipH), gocv.InterpolationLinear, gocv.BorderTransparent, color.RGBA{})
			var q [4][2]float64
			for j, pt := range corners {
				q[j][0], q[j][1] = project(m, pt)
			}
			m.Close()
			// A camera's optics are not perfectly sharp.
			gocv.GaussianBlur(frame, &frame, image.Pt(0, 0), 0.7, 0, gocv.BorderDefault)
			enc.write(frame)
			a.quads = append(a.quads, q)
			a.widths = append(a.widths, math.Hypot(q[1][0]-q[0][0], q[1][1]-q[0][1]))
			a.frames++
		}
	}
	enc.close()
	return out, a
}

type tally struct{ hit, n int }

// plateMasked reports whether every sample point of the plate's quad in
// frame f lies in a masked region.
func plateMasked(p *plan.Plan, ix *plan.Index, f int, q [4][2]float64) bool {
	for i := range coverageSamplesX {
		for j := range coverageSamplesY {
			u := (float64(i) + 0.5) / coverageSamplesX
			v := (float64(j) + 0.5) / coverageSamplesY
			top := [2]float64{q[0][0] + u*(q[1][0]-q[0][0]), q[0][1] + u*(q[1][1]-q[0][1])}
			bot := [2]float64{q[3][0] + u*(q[2][0]-q[3][0]), q[3][1] + u*(q[2][1]-q[3][1])}
			x, y := top[0]+v*(bot[0]-top[0]), top[1]+v*(bot[1]-top[1])
			if !covered(p, ix, f, int(x), int(y)) {
				return false
			}
		}
	}
	return true
}

// Plates composited onto a real car image (five Korean designs, three
// angles, 40–280 px wide at 720p, H.264 CRF 26) must be masked whole from
// the width the localiser is built for; the recall per width is logged for
// docs/masking.md.
func TestPlateRecallOnComposites(t *testing.T) {
	floor, small, falseBoxes, frames := plateRecall(t)
	recall := float64(floor.hit) / float64(floor.n)
	t.Logf("plates ≥ %.0f px: %d of %d frames masked (recall %.3f); narrower: %d of %d; %d regions away from the plate in %d frames",
		plateFloor, floor.hit, floor.n, recall, small.hit, small.n, falseBoxes, frames)
	if recall < 0.97 {
		t.Errorf("plate recall %.3f < 0.97 for plates ≥ %.0f px wide", recall, plateFloor)
	}
	if falseBoxes > frames {
		t.Errorf("%d plate regions away from the plate in %d frames: more than one a frame", falseBoxes, frames)
	}
}

// plateRecall masks the composited clips with the plate localiser and
// tallies the frames with the plate masked whole, from the localiser's
// floor width up (floor) and below it (small), and the regions it masked
// away from the plate; it logs the recall by width.
func plateRecall(t testing.TB) (floor, small tally, falseBoxes, frames int) {
	dir := t.TempDir()
	car := gocv.IMRead(videotest.Asset(t, "car-rear.jpg"), gocv.IMReadColor)
	if car.Empty() {
		t.Fatal("cannot read car-rear.jpg")
	}
	defer car.Close()
	bgFile := filepath.Join(dir, "street.png")
	videotest.FFmpeg(t, "-ss", "20", "-i", videotest.Asset(t, "vtest.avi"), "-frames:v", "1", "-vf", fmt.Sprintf("scale=%d:%d", clipW, clipH), bgFile)
	bg := gocv.IMRead(bgFile, gocv.IMReadColor)
	defer bg.Close()

	buckets := []float64{40, 60, 80, 120, 180, 281}
	perStyle := map[string][]tally{}
	for _, s := range plateStyles {
		clip, a := makeClip(t, dir, car, bg, s)
		res, err := mask.Mask(context.Background(), clip, "", options(t, mask.DetectPlates))
		if err != nil {
			t.Fatal(err)
		}
		ix := res.Plan.Masked()
		tl := make([]tally, len(buckets)-1)
		for f := range a.frames {
			b := 0
			for b+2 < len(buckets) && a.widths[f] >= buckets[b+1] {
				b++
			}
			ok := plateMasked(res.Plan, ix, f, a.quads[f])
			for _, x := range []*tally{&tl[b], map[bool]*tally{true: &floor, false: &small}[a.widths[f] >= plateFloor]} {
				x.n++
				if ok {
					x.hit++
				}
			}
			for _, box := range ix.At(f) {
				if !overlapsQuad(box, a.quads[f]) {
					falseBoxes++
				}
			}
		}
		perStyle[s.name] = tl
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "frames with the plate masked whole, by plate width (px at 720p; half that in the 640-wide copy):\n%-26s", "")
	for b := range len(buckets) - 1 {
		fmt.Fprintf(&sb, " | %.0f–%.0f", buckets[b], buckets[b+1]-1)
	}
	for _, s := range plateStyles {
		fmt.Fprintf(&sb, "\n%-26s", s.name)
		for _, x := range perStyle[s.name] {
			fmt.Fprintf(&sb, " | %2d/%2d", x.hit, x.n)
		}
	}
	t.Log(sb.String())
	return floor, small, falseBoxes, len(plateStyles) * len(yaws) * approachFrames
}

// On real footage without legible plates, how often the localiser masks
// something else: logged for docs/masking.md and held under one region a
// frame. movie-hello is a screen recording full of text, which looks like
// plates to a localiser; it is logged, not held.
func TestPlateFalseRegionsOnRealFootage(t *testing.T) {
	for _, clip := range []string{"Megamind.avi", "phone-1080p.mp4", "vtest.avi", "movie-hello.mp4"} {
		res, err := mask.Mask(context.Background(), videotest.Asset(t, clip), "", options(t, mask.DetectPlates))
		if err != nil {
			t.Fatal(err)
		}
		ix := res.Plan.Masked()
		boxes := 0
		for f := range res.Frames {
			boxes += len(ix.At(f))
		}
		t.Logf("%s: %d plate tracks, %d regions in %d frames (%.2f a frame), %d frames touched", clip, len(res.Plan.Tracks), boxes, res.Frames, float64(boxes)/float64(res.Frames), res.MaskedFrames)
		if clip != "movie-hello.mp4" && boxes > res.Frames {
			t.Errorf("%s: %d plate regions in %d frames", clip, boxes, res.Frames)
		}
	}
}

// overlapsQuad reports whether box b touches the quad's bounding box.
func overlapsQuad(b plan.Box, q [4][2]float64) bool {
	x0, y0, x1, y1 := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, p := range q {
		x0, y0, x1, y1 = min(x0, p[0]), min(y0, p[1]), max(x1, p[0]), max(y1, p[1])
	}
	return float64(b.X) < x1 && float64(b.X+b.W) > x0 && float64(b.Y) < y1 && float64(b.Y+b.H) > y0
}
