package detect

import (
	"fmt"
	"image"

	"gocv.io/x/gocv"

	"sealgate/inner/video"
)

// DetectNative runs the face model on regions of the full-resolution frame
// fr: each region is cut out at the source's own pixels, so a face 20 px
// tall on a 1080p camera reaches the network at 16 px or more (a crop of
// at most NativeTile) instead of the 3 px it has in the whole-frame pass.
// Boxes are in full-frame pixels.
func (f *Faces) DetectNative(fr *video.Frame, crops []Crop) ([]Box, error) {
	var all []Box
	frame := image.Rect(0, 0, fr.Width, fr.Height)
	for _, c := range crops {
		r := evenRect(c.Rectangle).Intersect(frame)
		if r.Dx() < 16 || r.Dy() < 16 {
			continue
		}
		if err := f.loadCrop(fr, r); err != nil {
			return nil, err
		}
		found, err := f.infer(f.crop, c.Threshold, nativeInput(max(r.Dx(), r.Dy()), c.Scale))
		if err != nil {
			return nil, err
		}
		for _, b := range found {
			full := b.Add(r.Min)
			if cutByEdge(full, r, frame) {
				continue // the whole-frame pass, or another crop, sees it whole
			}
			if full = full.Intersect(frame); !full.Empty() {
				all = append(all, Box{full, b.Score})
			}
		}
	}
	return nms(all, 0.3), nil
}

// A Crop is a region of the full-resolution frame to look at, and the
// score from which a face found there is reported.
type Crop struct {
	image.Rectangle
	Threshold float32
	Scale     float64 // network pixels per crop pixel, at most 1 (less when the crop is larger than the network)
}

// loadCrop converts region r (even corners, inside the frame) of fr's
// yuv420p planes into f.crop, RGB.
func (f *Faces) loadCrop(fr *video.Frame, r image.Rectangle) error {
	w, h := r.Dx(), r.Dy()
	need := w * h * 3 / 2
	if cap(f.cropPlanes) < need {
		f.cropPlanes = make([]byte, need)
	}
	buf := f.cropPlanes[:need]
	y := fr.Y()
	for row := range h {
		o := (r.Min.Y+row)*fr.Width + r.Min.X
		copy(buf[row*w:(row+1)*w], y[o:o+w])
	}
	cw, ch, stride := w/2, h/2, fr.Width/2
	for i, plane := range [][]byte{fr.U(), fr.V()} {
		base := w*h + i*cw*ch
		for row := range ch {
			o := (r.Min.Y/2+row)*stride + r.Min.X/2
			copy(buf[base+row*cw:base+(row+1)*cw], plane[o:o+cw])
		}
	}
	yuv, err := gocv.NewMatFromBytes(h*3/2, w, gocv.MatTypeCV8U, buf)
	if err != nil {
		return fmt.Errorf("face detector: crop %v: %w", r, err)
	}
	defer yuv.Close()
	gocv.CvtColor(yuv, &f.crop, colorI420ToRGB)
	return nil
}

// cutByEdge reports whether box b reaches the edge of crop where the crop
// is inside frame (all in frame pixels): the face may go on beyond it, and
// its box would cover only part of it. Such a box is dropped, small ones
// too: a part box steers the face's track and the next crop off the face
// (kept, the evaluation's 24 px faces went unmasked 5 frames running).
func cutByEdge(b, crop, frame image.Rectangle) bool {
	in := crop.Inset(2)
	return b.Min.X < in.Min.X && crop.Min.X > frame.Min.X ||
		b.Min.Y < in.Min.Y && crop.Min.Y > frame.Min.Y ||
		b.Max.X > in.Max.X && crop.Max.X < frame.Max.X ||
		b.Max.Y > in.Max.Y && crop.Max.Y < frame.Max.Y
}

func evenRect(r image.Rectangle) image.Rectangle {
	return image.Rect(r.Min.X&^1, r.Min.Y&^1, (r.Max.X+1)&^1, (r.Max.Y+1)&^1)
}

// nativeInput is the network input's longer side for a crop of the given
// longer side at scale: a multiple of 32, from 64 to the model's 256.
func nativeInput(side int, scale float64) int {
	return max(64, min(bfSize, (int(float64(side)*scale)+31)/32*32))
}
