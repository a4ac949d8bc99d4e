// Package detect finds what must be masked: faces (BlazeFace, with Haar
// cascades as a second opinion), moving people (background subtraction and
// blobs, for far-field fixed cameras) and licence plates (a classical
// localiser). Every detector works on a downscaled copy of the frame, and
// small faces also on crops of the full-resolution frame chosen by
// FaceSearch; all report boxes in full-frame pixels.
//
// A cv::Exception aborts the process in this gocv, so sizes and models are
// checked here before any call into OpenCV.
package detect

import (
	"fmt"
	"image"

	"gocv.io/x/gocv"

	"sealgate/inner/video"
)

// OpenCV's COLOR_YUV2RGB_I420, which gocv does not name.
const colorI420ToRGB = gocv.ColorConversionCode(99)

// Box is a detection in full-frame pixels.
type Box struct {
	image.Rectangle
	Score float64
}

// Small is a downscaled copy of one frame, made once and shared by the
// detectors that run on that frame.
type Small struct {
	Scale       float64 // full-frame pixels per small pixel
	W, H        int     // size of the current small copy
	maxW        int
	src         *video.Frame
	gray, rgb   gocv.Mat
	hasRGB      bool
	planes      []byte
	col         []uint16 // shrink's scratch
	fullW       int
	fullH       int
	initialised bool
}

// NewSmall prepares copies at most width pixels wide. Close it after use.
func NewSmall(width int) *Small { return &Small{maxW: width} }

// MaxWidth is the widest copy s makes.
func (s *Small) MaxWidth() int { return s.maxW }

// Load makes the small copy of f (reusing buffers across frames).
func (s *Small) Load(f *video.Frame) error {
	if f.Width < 2 || f.Height < 2 || f.Width%2 != 0 || f.Height%2 != 0 || len(f.Data) != video.FrameBytes(f.Width, f.Height) {
		return fmt.Errorf("detect: bad frame %d×%d (%d bytes)", f.Width, f.Height, len(f.Data))
	}
	w := min(s.maxW, f.Width) &^ 1
	h := max(2, (f.Height*w/f.Width)&^1)
	if !s.initialised || s.fullW != f.Width || s.fullH != f.Height {
		s.Close()
		s.gray = gocv.NewMatWithSize(h, w, gocv.MatTypeCV8U)
		s.rgb = gocv.NewMat()
		s.planes = make([]byte, video.FrameBytes(w, h))
		s.fullW, s.fullH, s.initialised = f.Width, f.Height, true
	}
	s.src, s.hasRGB = f, false
	s.W, s.H = w, h
	s.Scale = float64(f.Width) / float64(w)
	gray, err := s.gray.DataPtrUint8()
	if err != nil {
		return err
	}
	return s.resizePlane(gray, f.Y(), f.Width, f.Height, w, h)
}

// Gray is the small luma image.
func (s *Small) Gray() gocv.Mat { return s.gray }

// RGB is the small colour image (made on first use for this frame).
func (s *Small) RGB() (gocv.Mat, error) {
	if s.hasRGB {
		return s.rgb, nil
	}
	w, h := s.W, s.H
	gray, err := s.gray.DataPtrUint8()
	if err != nil {
		return s.rgb, err
	}
	copy(s.planes, gray)
	for i, plane := range [][]byte{s.src.U(), s.src.V()} {
		off := w*h + i*(w*h/4)
		if err := s.resizePlane(s.planes[off:off+w*h/4], plane, s.src.Width/2, s.src.Height/2, w/2, h/2); err != nil {
			return s.rgb, err
		}
	}
	yuv, err := gocv.NewMatFromBytes(h*3/2, w, gocv.MatTypeCV8U, s.planes)
	if err != nil {
		return s.rgb, err
	}
	gocv.CvtColor(yuv, &s.rgb, colorI420ToRGB)
	yuv.Close()
	s.hasRGB = true
	return s.rgb, nil
}

// Full maps a rectangle in small pixels to full-frame pixels, clipped.
func (s *Small) Full(r image.Rectangle) image.Rectangle {
	f := func(v int) int { return int(float64(v)*s.Scale + 0.5) }
	return image.Rect(f(r.Min.X), f(r.Min.Y), f(r.Max.X), f(r.Max.Y)).Intersect(image.Rect(0, 0, s.fullW, s.fullH))
}

// Close releases the OpenCV buffers.
func (s *Small) Close() {
	if s.initialised {
		s.gray.Close()
		s.rgb.Close()
		s.initialised = false
	}
}

// resizePlane writes the dw×dh copy of the w×h plane p to dst: box means
// when the sizes differ by a whole factor (1080p and 720p to 640 wide),
// else OpenCV's area interpolation.
func (s *Small) resizePlane(dst, p []byte, w, h, dw, dh int) error {
	if len(dst) != dw*dh {
		return fmt.Errorf("detect: %d bytes for a %d×%d plane", len(dst), dw, dh)
	}
	if dw == w && dh == h {
		copy(dst, p)
		return nil
	}
	if k := shrinkFactor(w, h, dw, dh); k > 0 {
		if len(s.col) < w {
			s.col = make([]uint16, w)
		}
		shrink(dst, p, w, h, k, s.col)
		return nil
	}
	src, err := gocv.NewMatFromBytes(h, w, gocv.MatTypeCV8U, p)
	if err != nil {
		return err
	}
	defer src.Close()
	out := gocv.NewMat()
	defer out.Close()
	gocv.Resize(src, &out, image.Pt(dw, dh), 0, 0, gocv.InterpolationArea)
	b, err := out.DataPtrUint8()
	if err != nil {
		return err
	}
	copy(dst, b)
	return nil
}
