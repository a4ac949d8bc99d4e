package video

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"os/exec"
	"strconv"
	"sync"
)

// Decoder reads a clip's frames, in presentation order, as yuv420p from an
// ffmpeg child process. Every frame the container holds comes out exactly once
// (no frame-rate conversion).
type Decoder struct {
	info   *Info
	cmd    *exec.Cmd
	out    *bufio.Reader
	stderr *limitedBuffer
	n      int
	w, h   int
}

// DecodeOptions changes the decoded picture.
type DecodeOptions struct {
	// Width, if set, scales the frames to this width (height keeps the
	// aspect ratio, rounded to even): analysis runs on a small copy.
	Width int
}

// NewDecoder starts decoding info's clip.
func NewDecoder(ctx context.Context, info *Info, opts DecodeOptions) (*Decoder, error) {
	w, h := info.Width, info.Height
	// Odd sizes are padded to even (yuv420p); a no-op filter still costs a
	// copy of every frame, so it is only added when needed.
	vf := "pad=ceil(iw/2)*2:ceil(ih/2)*2"
	scale := opts.Width > 0 && opts.Width < w
	if scale {
		h = (h*opts.Width/w + 1) &^ 1
		w = opts.Width &^ 1
		vf += ",scale=" + strconv.Itoa(w) + ":" + strconv.Itoa(h) + ":flags=area"
	}
	args := []string{"-nostdin", "-v", "error", "-i", info.Path, "-map", "0:v:0", "-an", "-sn", "-dn", "-fps_mode", "passthrough"}
	if info.odd || scale {
		args = append(args, "-vf", vf)
	}
	args = append(args, "-pix_fmt", "yuv420p", "-f", "rawvideo", "pipe:1")
	cmd := exec.CommandContext(ctx, "ffmpeg", args...)
	d := &Decoder{info: info, cmd: cmd, stderr: &limitedBuffer{max: 4096}, w: w, h: h}
	cmd.Stderr = d.stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting ffmpeg (make deps installs it): %w", err)
	}
	d.out = bufio.NewReaderSize(out, 1<<20)
	return d, nil
}

// Size is the decoded picture size.
func (d *Decoder) Size() (w, h int) { return d.w, d.h }

// Next fills f with the next frame and returns its index; io.EOF after the
// last. A clip that yields fewer or more frames than its container lists is
// damaged, and that is an error: frame i must keep timestamp i.
func (d *Decoder) Next(f *Frame) (int, error) {
	if f.Width != d.w || f.Height != d.h {
		return 0, fmt.Errorf("frame is %d×%d, decoder gives %d×%d", f.Width, f.Height, d.w, d.h)
	}
	_, err := io.ReadFull(d.out, f.Data)
	switch {
	case err == nil:
		if d.n >= len(d.info.PTS) {
			d.Close()
			return 0, fmt.Errorf("%s: decoded more frames than the container lists (%d): the file is damaged", d.info.Path, len(d.info.PTS))
		}
		d.n++
		return d.n - 1, nil
	case errors.Is(err, io.EOF):
		if werr := d.cmd.Wait(); werr != nil {
			return 0, fmt.Errorf("%s: decoding: %w (ffmpeg: %s)", d.info.Path, werr, firstLine(d.stderr.String()))
		}
		d.cmd = nil
		if d.n != len(d.info.PTS) {
			return 0, fmt.Errorf("%s: only %d of %d frames decode: the file is truncated or damaged", d.info.Path, d.n, len(d.info.PTS))
		}
		return 0, io.EOF
	default:
		d.Close()
		return 0, fmt.Errorf("%s: decoding frame %d: %w (ffmpeg: %s)", d.info.Path, d.n, err, firstLine(d.stderr.String()))
	}
}

// Close stops the decoder early.
func (d *Decoder) Close() {
	if d.cmd != nil && d.cmd.Process != nil {
		d.cmd.Process.Kill()
		d.cmd.Wait()
		d.cmd = nil
	}
}

// EncodeOptions are the delivered video's parameters.
type EncodeOptions struct {
	CRF       int  // x264 constant rate factor; 0 means 20
	KeepAudio bool // copy the first audio track (AAC); dropped by default
	Preset    string
}

// Encoder writes frames to an H.264 (High profile, yuv420p) fragmented MP4
// that browsers play through Media Source Extensions, with every frame at the
// input's timestamp.
type Encoder struct {
	info   *Info
	cmd    *exec.Cmd
	in     io.WriteCloser
	mkv    *mkvWriter
	stderr *limitedBuffer
	out    string
	n      int
	level  Level
	ns     []int64
}

// NewEncoder starts encoding to path (written as path.partial, renamed by
// Close on success).
func NewEncoder(ctx context.Context, info *Info, path string, opts EncodeOptions) (*Encoder, error) {
	lvl := PickLevel(info.Width, info.Height, info.FrameRate)
	crf := opts.CRF
	if crf == 0 {
		crf = 20
	}
	preset := opts.Preset
	if preset == "" {
		preset = "veryfast"
	}
	gop := max(int(info.FrameRate*2+0.5), 1)
	args := []string{"-nostdin", "-v", "error", "-y", "-copyts", "-f", "matroska", "-i", "pipe:0"}
	if opts.KeepAudio && hasAudio(ctx, info.Path) {
		args = append(args, "-i", info.Path, "-map", "1:a:0", "-c:a", "aac", "-b:a", "128k")
	}
	maxrate := strconv.Itoa(lvl.MaxKbps) + "k"
	args = append(args, "-map", "0:v:0", "-c:v", "libx264", "-preset", preset, "-crf", strconv.Itoa(crf),
		"-profile:v", "high", "-level:v", lvl.Name, "-maxrate", maxrate, "-bufsize", maxrate,
		"-bf", "0", "-g", strconv.Itoa(gop), "-pix_fmt", "yuv420p", "-fps_mode", "passthrough",
		"-video_track_timescale", timescale(&info.TimeBase),
		"-movflags", "+frag_keyframe+delay_moov+default_base_moof", "-f", "mp4", path+".partial")
	cmd := exec.CommandContext(ctx, "ffmpeg", args...)
	e := &Encoder{info: info, cmd: cmd, stderr: &limitedBuffer{max: 4096}, out: path, level: lvl}
	cmd.Stderr = e.stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting ffmpeg (make deps installs it): %w", err)
	}
	e.in = in
	if e.mkv, err = newMKVWriter(in, info.Width, info.Height); err != nil {
		e.Abort()
		return nil, err
	}
	// Timestamps in nanoseconds, rounded; the MP4 timescale brings them back
	// exactly (a tick is far longer than a nanosecond).
	e.ns = make([]int64, len(info.PTS))
	ns := new(big.Rat)
	for i, p := range info.PTS {
		ns.Mul(&info.TimeBase, big.NewRat(p*1_000_000_000, 1))
		f, _ := ns.Float64()
		e.ns[i] = int64(f + 0.5)
	}
	if e.ns[0] < 0 {
		off := -e.ns[0]
		for i := range e.ns {
			e.ns[i] += off
		}
	}
	return e, nil
}

// Level is the H.264 level of the output; Codec is the MSE codec string.
func (e *Encoder) Level() Level { return e.level }

// Write encodes the next frame.
func (e *Encoder) Write(f *Frame) error {
	if e.n >= len(e.ns) {
		return fmt.Errorf("encoder: more frames than the input has (%d)", len(e.ns))
	}
	if f.Width != e.info.Width || f.Height != e.info.Height {
		return fmt.Errorf("encoder: frame is %d×%d, want %d×%d", f.Width, f.Height, e.info.Width, e.info.Height)
	}
	if err := e.mkv.WriteFrame(e.ns[e.n], f.Data); err != nil {
		return fmt.Errorf("encoding frame %d: %w (ffmpeg: %s)", e.n, err, firstLine(e.stderr.String()))
	}
	e.n++
	return nil
}

// Close finishes the file and renames it into place. It fails unless every
// input frame was written.
func (e *Encoder) Close() error {
	if e.n != len(e.ns) {
		e.Abort()
		return fmt.Errorf("encoder: %d of %d frames written", e.n, len(e.ns))
	}
	err := e.mkv.Flush()
	if cerr := e.in.Close(); err == nil {
		err = cerr
	}
	if werr := e.cmd.Wait(); werr != nil {
		os.Remove(e.out + ".partial")
		return fmt.Errorf("encoding %s: %w (ffmpeg: %s)", e.out, werr, firstLine(e.stderr.String()))
	}
	if err != nil {
		os.Remove(e.out + ".partial")
		return fmt.Errorf("encoding %s: %w", e.out, err)
	}
	return os.Rename(e.out+".partial", e.out)
}

// Abort stops the encoder and removes the partial file.
func (e *Encoder) Abort() {
	e.in.Close()
	if e.cmd.Process != nil {
		e.cmd.Process.Kill()
	}
	e.cmd.Wait()
	os.Remove(e.out + ".partial")
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
