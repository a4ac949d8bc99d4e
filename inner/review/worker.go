package review

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"slices"

	"gocv.io/x/gocv"

	"sealgate/inner/mask/detect"
	"sealgate/inner/mask/plan"
	"sealgate/inner/mask/render"
	"sealgate/inner/video"
)

// trackWidth is the width the tracker works at, as detection does.
const trackWidth = 640

// Serve answers requests about the clip at path, read from r, on w, until r
// ends or ctx does. It runs in the worker process (`sealgate-inner
// review-worker`). A clip that cannot be opened is reported on w first.
func Serve(ctx context.Context, path string, r io.Reader, w io.Writer) error {
	out := bufio.NewWriter(w)
	s, err := open(ctx, path)
	if err != nil {
		send(out, Answer{Error: err.Error()}, nil)
		return err
	}
	defer s.close()
	if err := send(out, Answer{Clip: s.clip}, nil); err != nil {
		return err
	}
	in := bufio.NewScanner(r)
	in.Buffer(make([]byte, 64<<10), maxLine)
	for in.Scan() {
		if err := ctx.Err(); err != nil {
			return err
		}
		var ans Answer
		var body []byte
		if req, err := parseRequest(in.Bytes()); err != nil {
			ans.Error = err.Error()
		} else if body, ans, err = s.handle(&req); err != nil {
			ans = Answer{Error: err.Error()}
			body = nil
		}
		if err := send(out, ans, body); err != nil {
			return err
		}
	}
	return in.Err()
}

// parseRequest decodes one request line strictly: unknown fields and
// anything after the request are refused.
func parseRequest(line []byte) (Request, error) {
	var req Request
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return Request{}, fmt.Errorf("bad request: %v", err)
	}
	if rest := bytes.TrimSpace(line[dec.InputOffset():]); len(rest) != 0 {
		return Request{}, errors.New("bad request: data after the request")
	}
	return req, nil
}

func send(w *bufio.Writer, a Answer, jpegBytes []byte) error {
	a.JPEG = len(jpegBytes)
	b, err := json.Marshal(a)
	if err != nil {
		return err
	}
	w.Write(append(b, '\n'))
	w.Write(jpegBytes)
	return w.Flush()
}

// server holds one clip's decoder and buffers across requests.
type server struct {
	info  *video.Info
	clip  *Clip
	dec   *video.Decoder
	full  *video.Frame
	small *detect.Small
}

func open(ctx context.Context, path string) (*server, error) {
	info, err := video.Probe(ctx, path)
	if err != nil {
		return nil, err
	}
	dec, err := video.NewDecoder(ctx, info, video.DecodeOptions{})
	if err != nil {
		return nil, err
	}
	c := &Clip{Width: info.Width, Height: info.Height, Frames: info.Frames(), FrameRate: info.FrameRate}
	for _, p := range info.PTS {
		c.Times = append(c.Times, info.Seconds(p-info.PTS[0]))
	}
	return &server{info: info, clip: c, dec: dec, full: video.NewFrame(info.Width, info.Height), small: detect.NewSmall(trackWidth)}, nil
}

func (s *server) close() {
	s.dec.Close()
	s.small.Close()
}

func (s *server) handle(req *Request) ([]byte, Answer, error) {
	if req.Frame < 0 || req.Frame >= s.clip.Frames {
		return nil, Answer{}, fmt.Errorf("the clip has no frame %d (it has %d)", req.Frame, s.clip.Frames)
	}
	switch req.Op {
	case OpFrame:
		b, err := s.frame(req)
		return b, Answer{}, err
	case OpTrack:
		boxes, err := s.track(req)
		return nil, Answer{Boxes: boxes}, err
	}
	return nil, Answer{}, fmt.Errorf("unknown operation %q", req.Op)
}

// frame renders one frame as JPEG, masked as asked, scaled down by the
// smallest whole factor that fits the width.
func (s *server) frame(req *Request) ([]byte, error) {
	if err := s.dec.At(req.Frame, s.full); err != nil {
		return nil, err
	}
	if req.Mask != nil {
		m, err := render.New(req.Mask.Style, req.Mask.Margin)
		if err != nil {
			return nil, err
		}
		if req.Mask.Margin < 0 || req.Mask.Margin > 1 {
			return nil, fmt.Errorf("margin %v is not within 0..1", req.Mask.Margin)
		}
		m.Apply(s.full, req.Mask.Boxes)
	}
	k := 1
	if req.Width > 0 {
		k = max(1, (s.full.Width+req.Width-1)/req.Width)
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, downscale(s.full, k), &jpeg.Options{Quality: 85}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// downscale averages k×k blocks of f into a YCbCr image.
func downscale(f *video.Frame, k int) *image.YCbCr {
	w, h := f.Width/k, f.Height/k
	img := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	average(img.Y, img.YStride, w, h, f.Y(), f.Width, k)
	cw, ch := (w+1)/2, (h+1)/2
	average(img.Cb, img.CStride, min(cw, f.Width/2/k), min(ch, f.Height/2/k), f.U(), f.Width/2, k)
	average(img.Cr, img.CStride, min(cw, f.Width/2/k), min(ch, f.Height/2/k), f.V(), f.Width/2, k)
	return img
}

func average(dst []byte, dstride, w, h int, src []byte, sstride, k int) {
	n := k * k
	for y := range h {
		for x := range w {
			sum := 0
			for dy := range k {
				row := src[(y*k+dy)*sstride+x*k:]
				for dx := range k {
					sum += int(row[dx])
				}
			}
			dst[y*dstride+x] = byte((sum + n/2) / n)
		}
	}
}

// track carries the operator's box forwards and backwards (or, with
// Forwards, only forwards) from its frame with OpenCV's MIL tracker on a
// 640-wide copy, until the subject is lost, leaves the frame, or Span
// frames each way.
func (s *server) track(req *Request) ([]plan.Box, error) {
	b := req.Box
	if b == nil {
		return nil, errors.New("track needs a box")
	}
	frameRect := image.Rect(0, 0, s.clip.Width, s.clip.Height)
	drawn := image.Rect(b.X, b.Y, b.X+b.W, b.Y+b.H)
	if b.W < 8 || b.H < 8 || !drawn.In(frameRect) {
		return nil, fmt.Errorf("the box %d,%d %d×%d must be at least 8×8 and inside the %d×%d frame", b.X, b.Y, b.W, b.H, s.clip.Width, s.clip.Height)
	}
	span := min(max(req.Span, 0), MaxSpan)
	f0 := req.Frame
	if err := s.dec.At(f0, s.full); err != nil {
		return nil, err
	}
	if err := s.small.Load(s.full); err != nil {
		return nil, err
	}
	g := s.small.Gray()
	start := g.Clone()
	defer start.Close()
	inv := 1 / s.small.Scale
	r0 := image.Rect(int(float64(b.X)*inv), int(float64(b.Y)*inv), int(float64(b.X+b.W)*inv+0.5), int(float64(b.Y+b.H)*inv+0.5))
	out := []plan.Box{{F: f0, X: b.X, Y: b.Y, W: b.W, H: b.H, By: plan.ByManual}}

	// Forwards, frame by frame as they decode.
	fwd, err := s.follow(start, r0, func(yield func(int, gocv.Mat) bool) error {
		for j := f0 + 1; j < min(s.clip.Frames, f0+span+1); j++ {
			if _, err := s.dec.Next(s.full); err != nil {
				return err
			}
			if err := s.small.Load(s.full); err != nil {
				return err
			}
			if !yield(j, s.small.Gray()) {
				return nil
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out = append(out, fwd...)

	// Backwards: decode the frames before in order, then track in reverse.
	if from := max(0, f0-span); from < f0 && span > 0 && !req.Forwards {
		var before []gocv.Mat
		defer func() {
			for _, m := range before {
				m.Close()
			}
		}()
		if err := s.dec.At(from, s.full); err != nil {
			return nil, err
		}
		for j := from; j < f0; j++ {
			if j > from {
				if _, err := s.dec.Next(s.full); err != nil {
					return nil, err
				}
			}
			if err := s.small.Load(s.full); err != nil {
				return nil, err
			}
			g := s.small.Gray()
			before = append(before, g.Clone())
		}
		back, err := s.follow(start, r0, func(yield func(int, gocv.Mat) bool) error {
			for j := f0 - 1; j >= from; j-- {
				if !yield(j, before[j-from]) {
					return nil
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		out = append(out, back...)
	}
	slices.SortFunc(out, func(a, b plan.Box) int { return a.F - b.F })
	return out, nil
}

// follow runs a MIL tracker started on r0 in first over the frames frames
// yields, and returns a box per frame until the subject is lost or mostly
// leaves the picture.
func (s *server) follow(first gocv.Mat, r0 image.Rectangle, frames func(yield func(int, gocv.Mat) bool) error) ([]plan.Box, error) {
	t := gocv.NewTrackerMIL()
	defer t.Close()
	if !t.Init(first, r0) {
		return nil, errors.New("the tracker cannot start on this box")
	}
	var out []plan.Box
	area := r0.Dx() * r0.Dy()
	bounds := image.Rect(0, 0, s.small.W, s.small.H)
	err := frames(func(j int, m gocv.Mat) bool {
		r, ok := t.Update(m)
		in := r.Intersect(bounds)
		if !ok || in.Dx()*in.Dy()*2 < area {
			return false
		}
		full := s.small.Full(in)
		out = append(out, plan.Box{F: j, X: full.Min.X, Y: full.Min.Y, W: full.Dx(), H: full.Dy(), By: plan.ByTracker})
		return true
	})
	return out, err
}
