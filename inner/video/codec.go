package video

/*
#cgo pkg-config: libavformat libavcodec libavutil libswscale
#cgo CFLAGS: -O2
#include <stdlib.h>
#include <string.h>
#include "av.h"
*/
import "C"

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"unsafe"

	"sealgate/shared/atomicfile"
)

// Decoder reads a clip's frames, in presentation order, as yuv420p, with
// FFmpeg's libraries in our own process (av.c): at 1080p, moving frames
// through pipes to and from ffmpeg processes cost as much CPU as the encode.
// Every frame the container holds comes out exactly once (no frame-rate
// conversion), turned as the stream's display matrix says, odd sizes padded
// to even by repeating the last row or column.
type Decoder struct {
	ctx  context.Context
	info *Info
	opts DecodeOptions
	d    *C.sg_dec
	n    int // the index of the frame Next returns
	w, h int
	last [errLen]C.char // the decoder's last complaint, kept past Close
	// place is learnt on the first seek: how timestamps name frames.
	place *placement
}

// DecodeOptions changes the decoded picture.
type DecodeOptions struct {
	// Width, if set, scales the frames to this width (height keeps the
	// aspect ratio, rounded to even): analysis runs on a small copy.
	Width int
}

// errLen is the size of the error buffers C fills.
const errLen = 256

// NewDecoder opens info's clip for decoding.
func NewDecoder(ctx context.Context, info *Info, opts DecodeOptions) (*Decoder, error) {
	w, h := info.Width, info.Height
	if opts.Width > 0 && opts.Width < w {
		h = (h*opts.Width/w + 1) &^ 1
		w = opts.Width &^ 1
	}
	path := C.CString(info.Path)
	defer C.free(unsafe.Pointer(path))
	var msg [errLen]C.char
	d := C.sg_dec_open(path, C.int(w), C.int(h), &msg[0], errLen)
	if d == nil {
		return nil, fmt.Errorf("%s: %w: %s", info.Path, ErrNotVideo, C.GoString(&msg[0]))
	}
	return &Decoder{ctx: ctx, info: info, opts: opts, d: d, w: w, h: h}, nil
}

// Size is the decoded picture size.
func (d *Decoder) Size() (w, h int) { return d.w, d.h }

// Next fills f with the next frame and returns its index; io.EOF after the
// last. A clip that yields fewer or more frames than its container lists is
// damaged, and that is an error: frame i must keep timestamp i.
func (d *Decoder) Next(f *Frame) (int, error) {
	_, more, err := d.raw(f)
	if err != nil || !more {
		d.Close()
	}
	if err != nil {
		return 0, err
	}
	if !more {
		if d.n != len(d.info.PTS) {
			last := C.GoString(&d.last[0])
			if last == "" {
				last = "the stream ends early"
			}
			return 0, fmt.Errorf("%s: only %d of %d frames decode: the file is truncated or damaged (%s)", d.info.Path, d.n, len(d.info.PTS), last)
		}
		return 0, io.EOF
	}
	if d.n >= len(d.info.PTS) {
		d.Close()
		return 0, fmt.Errorf("%s: decoded more frames than the container lists (%d): the file is damaged", d.info.Path, len(d.info.PTS))
	}
	d.n++
	return d.n - 1, nil
}

// raw decodes the next picture into f and returns its timestamp (noPTS when
// the stream has none); more is false at the end of the stream.
func (d *Decoder) raw(f *Frame) (pts int64, more bool, err error) {
	if d.d == nil {
		return 0, false, errors.New("decoder is closed")
	}
	if f.Width != d.w || f.Height != d.h || len(f.Data) != FrameBytes(d.w, d.h) {
		return 0, false, fmt.Errorf("frame is %d×%d, decoder gives %d×%d", f.Width, f.Height, d.w, d.h)
	}
	if err := d.ctx.Err(); err != nil {
		return 0, false, err
	}
	var ts C.int64_t
	switch C.sg_dec_next(d.d, (*C.uint8_t)(unsafe.Pointer(&f.Data[0])), &ts) {
	case 1:
		return int64(ts), true, nil
	case 0:
		C.strncpy(&d.last[0], C.sg_dec_error(d.d), errLen-1)
		return 0, false, nil
	default:
		return 0, false, fmt.Errorf("%s: decoding frame %d: %s", d.info.Path, d.n, C.GoString(C.sg_dec_error(d.d)))
	}
}

// At fills f with frame i, for random access (the review editor); Next then
// continues with frame i+1. Near ahead it decodes forward; further away it
// seeks to the keyframe before the frame's timestamp and places decoded
// frames by their timestamps. Where timestamps do not place frames (streams
// without them, or a seek that lands after the frame), it decodes from the
// start: slow, never wrong.
func (d *Decoder) At(i int, f *Frame) error {
	if i < 0 || i >= len(d.info.PTS) {
		return fmt.Errorf("%s has no frame %d (it has %d)", d.info.Path, i, len(d.info.PTS))
	}
	ahead := max(30, 2*int(d.info.FrameRate))
	if d.d != nil && i >= d.n && i-d.n <= ahead {
		return d.forwardTo(i, f)
	}
	if d.place == nil {
		off, ok, err := d.calibrate(f, ahead)
		if err != nil {
			return err
		}
		d.place = &placement{off, ok}
	}
	for _, back := range []int{0, ahead, 8 * ahead} {
		if !d.place.ok {
			break
		}
		if err := d.reopen(false); err != nil {
			return err
		}
		ok, err := d.seekTo(i, max(0, i-back), f)
		if ok || err != nil {
			return err
		}
	}
	if err := d.reopen(true); err != nil {
		return err
	}
	return d.forwardTo(i, f)
}

// forwardTo decodes frames in order until frame i is in f.
func (d *Decoder) forwardTo(i int, f *Frame) error {
	for {
		j, err := d.Next(f)
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("%s: frame %d is past the end", d.info.Path, i)
		}
		if err != nil || j == i {
			return err
		}
	}
}

// seekTo seeks to frame from's timestamp and decodes until frame i is in f;
// false when a decoded frame cannot be placed at or before i.
func (d *Decoder) seekTo(i, from int, f *Frame) (bool, error) {
	if C.sg_dec_seek(d.d, C.int64_t(d.info.PTS[from])) != 0 {
		return false, nil
	}
	for {
		pts, more, err := d.raw(f)
		if err != nil || !more {
			return false, err
		}
		j, found := slices.BinarySearch(d.info.PTS, pts)
		j -= d.place.off
		if !found || j < 0 || j > i {
			return false, nil
		}
		d.n = j + 1
		if j == i {
			return true, nil
		}
	}
}

// placement says how decoded timestamps name frames: the frame decoded with
// timestamp PTS[k] is frame k-off. Decoders with B-frame delay in AVI
// report the next frame's timestamp (off 1).
type placement struct {
	off int
	ok  bool // timestamps place frames at all
}

// calibrate decodes the first frames in order (with a decoder of its own)
// and finds the offset between their index and their timestamps' place.
func (d *Decoder) calibrate(f *Frame, n int) (off int, ok bool, err error) {
	c, err := NewDecoder(d.ctx, d.info, d.opts)
	if err != nil {
		return 0, false, err
	}
	defer c.Close()
	var seen []int // place of each decoded frame's timestamp; -1 unknown
	for i := 0; i < min(n, len(d.info.PTS)); i++ {
		pts, more, err := c.raw(f)
		if err != nil || !more {
			return 0, false, err
		}
		k, found := slices.BinarySearch(d.info.PTS, pts)
		if !found {
			k = -1
		}
		seen = append(seen, k)
	}
	for _, off := range []int{0, 1, 2, -1} {
		hits, ok := 0, true
		for i, k := range seen {
			if k >= 0 && k-off != i {
				ok = false
				break
			}
			if k >= 0 {
				hits++
			}
		}
		if ok && hits*2 >= len(seen) {
			return off, true, nil
		}
	}
	return 0, false, nil
}

// reopen opens the decoder again if it was closed (at the end of the
// stream, or after an error), and from the first frame if fresh is set.
func (d *Decoder) reopen(fresh bool) error {
	if d.d != nil && !fresh {
		return nil
	}
	d.Close()
	nd, err := NewDecoder(d.ctx, d.info, DecodeOptions{Width: d.opts.Width})
	if err != nil {
		return err
	}
	d.d, nd.d = nd.d, nil
	d.n = 0
	return nil
}

// Close releases the decoder; it may be called more than once.
func (d *Decoder) Close() {
	if d.d != nil {
		C.sg_dec_close(d.d)
		d.d = nil
	}
}

// EncodeOptions are the delivered video's parameters.
type EncodeOptions struct {
	CRF       int  // x264 constant rate factor; 0 means 20
	KeepAudio bool // copy the first audio track (AAC); dropped by default
	Preset    string
}

// Encoder writes frames to an H.264 (libx264, High profile, yuv420p, no
// B-frames) fragmented MP4 that browsers play through Media Source
// Extensions, every frame at the input's timestamp, in our own process.
type Encoder struct {
	ctx     context.Context
	info    *Info
	e       *C.sg_enc
	out     string           // final name
	file    *atomicfile.File // the output, published create-only by Close
	partial string           // what the encoder writes: file's temporary name, or the video-only file when audio is added
	audio   bool
	n       int
	level   Level
	pts     []int64
}

// NewEncoder starts encoding to a new file at path (mode 0600), written
// through a hidden temporary file beside it and published by Close, synced
// and create-only: an existing path is refused here at once, and never
// replaced (the error wraps fs.ErrExist).
func NewEncoder(ctx context.Context, info *Info, path string, opts EncodeOptions) (*Encoder, error) {
	x, err := x264For(info, opts)
	if err != nil {
		return nil, err
	}
	file, err := atomicfile.Create(path, 0o600)
	if err != nil {
		return nil, fmt.Errorf("encoding: %w", err)
	}
	e := &Encoder{ctx: ctx, info: info, out: path, file: file, partial: file.TempName(), level: x.level,
		audio: opts.KeepAudio && info.audio}
	if e.audio {
		// The audio is added by a remux at Close, into file's temporary name.
		tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.video.partial")
		if err != nil {
			file.Abort()
			return nil, fmt.Errorf("encoding %s: %w", path, err)
		}
		tmp.Close()
		e.partial = tmp.Name()
	}
	// The MP4 track keeps the input's time base; a clip starting before
	// zero is shifted to start at zero.
	e.pts = make([]int64, len(info.PTS))
	for i, p := range info.PTS {
		e.pts[i] = p - min(info.PTS[0], 0)
	}
	cpath, cpreset, cscale := C.CString(e.partial), C.CString(x.preset), C.CString(timescale(&info.TimeBase))
	defer C.free(unsafe.Pointer(cpath))
	defer C.free(unsafe.Pointer(cpreset))
	defer C.free(unsafe.Pointer(cscale))
	p := C.sg_enc_params{
		width: C.int(info.Width), height: C.int(info.Height),
		tb_num: C.int(x.tbNum), tb_den: C.int(x.tbDen),
		fps_num: C.int(x.fpsMilli), fps_den: 1000,
		crf: C.int(x.crf), gop: C.int(x.gop),
		level_idc: C.int(x.level.IDC), max_kbps: C.int(x.level.MaxKbps),
		preset: cpreset, timescale: cscale,
	}
	var msg [errLen]C.char
	if e.e = C.sg_enc_open(cpath, &p, &msg[0], errLen); e.e == nil {
		e.Abort()
		return nil, fmt.Errorf("encoding %s: %s", path, C.GoString(&msg[0]))
	}
	return e, nil
}

// x264 is what the encoder asks of libx264 for a clip.
type x264 struct {
	preset       string
	crf, gop     int
	level        Level
	tbNum, tbDen int64
	fpsMilli     int64 // frame rate in thousandths
}

func x264For(info *Info, opts EncodeOptions) (x264, error) {
	x := x264{preset: opts.Preset, crf: opts.CRF, level: PickLevel(info.Width, info.Height, info.FrameRate)}
	if x.crf == 0 {
		x.crf = 20
	}
	if x.preset == "" {
		x.preset = "veryfast"
	}
	// A keyframe every two seconds: where players can start and seek.
	x.gop = max(int(info.FrameRate*2+0.5), 1)
	x.fpsMilli = int64(math.Round(max(info.FrameRate, 1) * 1000))
	num, den := info.TimeBase.Num(), info.TimeBase.Denom()
	if !num.IsInt64() || !den.IsInt64() || num.Int64() > math.MaxInt32 || den.Int64() > math.MaxInt32 {
		return x, fmt.Errorf("%s: time base %s is too fine to encode", info.Path, info.TimeBase.String())
	}
	x.tbNum, x.tbDen = num.Int64(), den.Int64()
	return x, nil
}

// FFmpegArgs are the ffmpeg command-line options that encode the video as
// NewEncoder does (codec, profile, level, rate control, keyframes, MP4
// fragments): the baseline the masking benchmark compares with.
func FFmpegArgs(info *Info, opts EncodeOptions) ([]string, error) {
	x, err := x264For(info, opts)
	if err != nil {
		return nil, err
	}
	rate := strconv.Itoa(x.level.MaxKbps) + "k"
	return []string{"-an", "-c:v", "libx264", "-preset", x.preset, "-crf", strconv.Itoa(x.crf),
		"-profile:v", "high", "-level", x.level.Name, "-bf", "0", "-g", strconv.Itoa(x.gop),
		"-maxrate", rate, "-bufsize", rate, "-pix_fmt", "yuv420p",
		"-movflags", "+frag_keyframe+delay_moov+default_base_moof"}, nil
}

// Level is the H.264 level of the output; Codec is the MSE codec string.
func (e *Encoder) Level() Level { return e.level }

// Write encodes the next frame.
func (e *Encoder) Write(f *Frame) error {
	if e.e == nil {
		return errors.New("encoder is closed")
	}
	if e.n >= len(e.pts) {
		return fmt.Errorf("encoder: more frames than the input has (%d)", len(e.pts))
	}
	if f.Width != e.info.Width || f.Height != e.info.Height || len(f.Data) != FrameBytes(f.Width, f.Height) {
		return fmt.Errorf("encoder: frame is %d×%d, want %d×%d", f.Width, f.Height, e.info.Width, e.info.Height)
	}
	if C.sg_enc_write(e.e, (*C.uint8_t)(unsafe.Pointer(&f.Data[0])), C.int64_t(e.pts[e.n])) != 0 {
		return fmt.Errorf("encoding frame %d of %s: %s", e.n, e.out, C.GoString(C.sg_enc_error(e.e)))
	}
	e.n++
	return nil
}

// Close finishes the file, syncs it and publishes it at its path, unless a
// file appeared there meanwhile. It fails unless every input frame was
// written; on any error nothing is left behind.
func (e *Encoder) Close() error {
	if e.e == nil {
		return errors.New("encoder is closed")
	}
	if e.n != len(e.pts) {
		e.Abort()
		return fmt.Errorf("encoder: %d of %d frames written", e.n, len(e.pts))
	}
	if C.sg_enc_finish(e.e) != 0 {
		err := fmt.Errorf("encoding %s: %s", e.out, C.GoString(C.sg_enc_error(e.e)))
		e.Abort()
		return err
	}
	C.sg_enc_close(e.e)
	e.e = nil
	if e.audio {
		err := e.addAudio()
		os.Remove(e.partial)
		if err != nil {
			e.file.Abort()
			return err
		}
	}
	if err := e.file.Commit(); err != nil {
		return fmt.Errorf("encoding: %w", err)
	}
	return nil
}

// addAudio muxes the input's first audio track (as AAC) beside the encoded
// video, copying the video as it is, timestamps included.
func (e *Encoder) addAudio() error {
	var stderr limitedBuffer
	stderr.max = 4096
	cmd := exec.CommandContext(e.ctx, "ffmpeg", "-nostdin", "-v", "error", "-y", "-copyts", "-i", e.partial, "-i", e.info.Path,
		"-map", "0:v:0", "-map", "1:a:0", "-c:v", "copy", "-c:a", "aac", "-b:a", "128k",
		"-video_track_timescale", timescale(&e.info.TimeBase),
		"-movflags", "+frag_keyframe+delay_moov+default_base_moof", "-f", "mp4", e.file.TempName())
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("adding the audio to %s: %w (ffmpeg: %s)", e.out, err, firstLine(stderr.String()))
	}
	return nil
}

// Abort stops the encoder and removes the partial files; nothing is
// published. It is a no-op after Close.
func (e *Encoder) Abort() {
	if e.e != nil {
		C.sg_enc_close(e.e)
		e.e = nil
	}
	if e.audio {
		os.Remove(e.partial)
	}
	e.file.Abort()
}

// Level is an H.264 level with the limits we encode to.
type Level struct {
	Name    string // "4.0"
	IDC     int    // 40
	MaxKbps int    // High-profile MaxBR, used as the VBV rate
}

// Codec is the MSE/RFC 6381 codec string (High profile).
func (l Level) Codec() string { return fmt.Sprintf("avc1.6400%02x", l.IDC) }

var levels = []struct {
	Level
	maxFS, maxMBPS int
}{
	{Level{"3.0", 30, 12500}, 1620, 40500},
	{Level{"3.1", 31, 17500}, 3600, 108000},
	{Level{"3.2", 32, 25000}, 5120, 216000},
	{Level{"4.0", 40, 25000}, 8192, 245760},
	{Level{"4.2", 42, 62500}, 8704, 522240},
	{Level{"5.0", 50, 168750}, 22080, 589824},
	{Level{"5.1", 51, 300000}, 36864, 983040},
	{Level{"5.2", 52, 300000}, 36864, 2073600},
}

// PickLevel is the lowest level whose frame size and macroblock rate fit.
func PickLevel(w, h int, fps float64) Level {
	mbs := ((w + 15) / 16) * ((h + 15) / 16)
	for _, l := range levels {
		if mbs <= l.maxFS && float64(mbs)*fps <= float64(l.maxMBPS) {
			return l.Level
		}
	}
	return levels[len(levels)-1].Level
}

// limitedBuffer keeps the first max bytes of a child's stderr.
type limitedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	max int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := b.max - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (b *limitedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
