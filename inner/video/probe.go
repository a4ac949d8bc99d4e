package video

/*
#include <stdlib.h>
#include "av.h"
*/
import "C"

import (
	"context"

	"errors"
	"fmt"
	"math"
	"math/big"
	"os"
	"slices"
	"strconv"
	"strings"
	"unsafe"
)

// Limits on what we accept. MaxPixels is H.264 level 5.2's largest frame
// (4096×2304): anything bigger cannot be delivered as H.264 that browsers play.
const (
	MaxPixels    = 36864 * 256
	MaxDimension = 8192
)

// ErrNotVideo is returned for inputs ffprobe cannot read as a video.
var ErrNotVideo = errors.New("not a video")

// Info is what the pipeline needs to know about an input clip.
type Info struct {
	Path   string
	Codec  string
	Width  int // as displayed (after rotation), padded to even
	Height int
	// TimeBase is the stream's time base; PTS are the frames' presentation
	// timestamps in that base, in presentation order.
	TimeBase big.Rat
	PTS      []int64
	// FrameRate is the nominal rate (r_frame_rate), used for the GOP length.
	FrameRate float64
	audio     bool // the file has an audio stream
}

// noPTS marks a packet without a timestamp (FFmpeg's AV_NOPTS_VALUE).
const noPTS = math.MinInt64

// Frames is the number of frames in the clip.
func (in *Info) Frames() int { return len(in.PTS) }

// Seconds converts a timestamp to seconds.
func (in *Info) Seconds(pts int64) float64 {
	f, _ := new(big.Rat).Mul(&in.TimeBase, new(big.Rat).SetInt64(pts)).Float64()
	return f
}

// FrameBytes is the size of one decoded yuv420p frame.
func (in *Info) FrameBytes() int { return FrameBytes(in.Width, in.Height) }

// FrameBytes is the size of a yuv420p frame of even width and height.
func FrameBytes(w, h int) int { return w*h + w*h/2 }

// Probe reads a clip's stream parameters and every frame's timestamp
// (demuxing only, no decoding), in our own process (av.c). It refuses what
// the pipeline cannot deliver faithfully: no video stream, zero frames,
// sizes beyond H.264's.
func Probe(ctx context.Context, path string) (*Info, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	var p C.sg_probe_info
	defer C.sg_probe_free(&p)
	var msg [errLen]C.char
	if C.sg_probe(cpath, &p, &msg[0], errLen) != 0 {
		return nil, fmt.Errorf("%s: %w (%s)", path, ErrNotVideo, C.GoString(&msg[0]))
	}
	w, h := int(p.width), int(p.height)
	info := &Info{Path: path, Codec: C.GoString(&p.codec[0]), Width: w, Height: h, audio: p.has_audio != 0}
	if w <= 0 || h <= 0 {
		return nil, fmt.Errorf("%s: %w: the video stream has no picture size", path, ErrNotVideo)
	}
	if w > MaxDimension || h > MaxDimension || w*h > MaxPixels {
		return nil, fmt.Errorf("%s: %d×%d is larger than H.264 delivers (at most %d pixels, %d per side)", path, w, h, MaxPixels, MaxDimension)
	}
	if p.rotation == 90 || p.rotation == 270 {
		info.Width, info.Height = h, w
	}
	// yuv420p needs even sizes; the decoder pads the last row/column.
	info.Width += info.Width % 2
	info.Height += info.Height % 2
	if p.fr_num > 0 && p.fr_den > 0 {
		info.FrameRate = float64(p.fr_num) / float64(p.fr_den)
	}
	if p.tb_num <= 0 || p.tb_den <= 0 {
		return nil, fmt.Errorf("%s: bad time base %d/%d", path, p.tb_num, p.tb_den)
	}
	info.TimeBase = *big.NewRat(int64(p.tb_num), int64(p.tb_den))
	n := int(p.n)
	var pts, dts []int64
	var discard []byte
	if n > 0 {
		pts = unsafe.Slice((*int64)(unsafe.Pointer(p.pts)), n)
		dts = unsafe.Slice((*int64)(unsafe.Pointer(p.dts)), n)
		discard = unsafe.Slice((*byte)(unsafe.Pointer(p.discard)), n)
	}
	frames, synth := 0, false
	for i := range n {
		// Packets an edit list discards are not frames of the clip.
		if discard[i] != 0 {
			continue
		}
		frames++
		switch {
		case pts[i] != noPTS:
			info.PTS = append(info.PTS, pts[i])
		case dts[i] != noPTS:
			info.PTS = append(info.PTS, dts[i])
		default:
			synth = true
		}
	}
	if frames == 0 {
		return nil, fmt.Errorf("%s: the video stream has zero frames", path)
	}
	if synth {
		// Elementary streams (raw .h264) carry no timestamps: ffmpeg times
		// them at the nominal rate, and so do we.
		if info.FrameRate <= 0 {
			return nil, fmt.Errorf("%s: frames carry no timestamps and the stream has no frame rate", path)
		}
		info.TimeBase = *big.NewRat(1, 90000)
		info.PTS = info.PTS[:0]
		for i := range frames {
			info.PTS = append(info.PTS, int64(math.Round(float64(i)*90000/info.FrameRate)))
		}
	}
	slices.Sort(info.PTS)
	for i := 1; i < len(info.PTS); i++ {
		if info.PTS[i] == info.PTS[i-1] {
			return nil, fmt.Errorf("%s: two frames share timestamp %d: the file is damaged", path, info.PTS[i])
		}
	}
	if info.FrameRate <= 0 {
		info.FrameRate = 25
	}
	return info, nil
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if s == "" {
		return "no output"
	}
	return s
}

// timescale is the MP4 track timescale that represents every timestamp exactly.
func timescale(r *big.Rat) string {
	// A time base like 125/2997 has every stamp on a multiple of 1/2997 s.
	return strconv.FormatInt(r.Denom().Int64(), 10)
}
