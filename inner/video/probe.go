package video

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
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
	odd       bool // the stored size is odd: the decoder pads it
}

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

type probeJSON struct {
	Streams []struct {
		CodecType    string `json:"codec_type"`
		CodecName    string `json:"codec_name"`
		Width        int    `json:"width"`
		Height       int    `json:"height"`
		TimeBase     string `json:"time_base"`
		RFrameRate   string `json:"r_frame_rate"`
		SideDataList []struct {
			Rotation float64 `json:"rotation"`
		} `json:"side_data_list"`
	} `json:"streams"`
	Packets []struct {
		PTS   *int64 `json:"pts"`
		DTS   *int64 `json:"dts"`
		Flags string `json:"flags"`
	} `json:"packets"`
}

// Probe reads a clip's stream parameters and every frame's timestamp with
// ffprobe (demuxing only, no decoding). It refuses what the pipeline cannot
// deliver faithfully: no video stream, zero frames, sizes beyond H.264's.
func Probe(ctx context.Context, path string) (*Info, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, "ffprobe", "-v", "error", "-print_format", "json",
		"-show_streams", "-show_entries", "packet=pts,dts,flags", "-select_streams", "v:0", path)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			return nil, fmt.Errorf("ffprobe is not installed (make deps installs ffmpeg): %w", err)
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("%s: %w (ffprobe: %s)", path, ErrNotVideo, firstLine(stderr.String()))
	}
	var p probeJSON
	if err := json.Unmarshal(out.Bytes(), &p); err != nil {
		return nil, fmt.Errorf("%s: reading ffprobe output: %w", path, err)
	}
	if len(p.Streams) == 0 || p.Streams[0].CodecType != "video" {
		return nil, fmt.Errorf("%s: %w: no video stream", path, ErrNotVideo)
	}
	s := p.Streams[0]
	info := &Info{Path: path, Codec: s.CodecName, Width: s.Width, Height: s.Height}
	if s.Width <= 0 || s.Height <= 0 {
		return nil, fmt.Errorf("%s: %w: the video stream has no picture size", path, ErrNotVideo)
	}
	if s.Width > MaxDimension || s.Height > MaxDimension || s.Width*s.Height > MaxPixels {
		return nil, fmt.Errorf("%s: %d×%d is larger than H.264 delivers (at most %d pixels, %d per side)", path, s.Width, s.Height, MaxPixels, MaxDimension)
	}
	for _, sd := range s.SideDataList {
		if r := math.Mod(math.Abs(sd.Rotation), 180); r == 90 {
			info.Width, info.Height = info.Height, info.Width
		}
	}
	// yuv420p needs even sizes; the decoder pads the last row/column.
	info.odd = info.Width%2 != 0 || info.Height%2 != 0
	info.Width += info.Width % 2
	info.Height += info.Height % 2
	if fr, ok := new(big.Rat).SetString(s.RFrameRate); ok && fr.Sign() > 0 {
		info.FrameRate, _ = fr.Float64()
	}
	tb, ok := new(big.Rat).SetString(s.TimeBase)
	if !ok || tb.Sign() <= 0 {
		return nil, fmt.Errorf("%s: bad time base %q", path, s.TimeBase)
	}
	info.TimeBase = *tb
	synth := false
	packets := p.Packets[:0]
	for _, pk := range p.Packets {
		// Packets an edit list discards are not frames of the clip.
		if !strings.Contains(pk.Flags, "D") {
			packets = append(packets, pk)
		}
	}
	p.Packets = packets
	for _, pk := range p.Packets {
		switch {
		case pk.PTS != nil:
			info.PTS = append(info.PTS, *pk.PTS)
		case pk.DTS != nil:
			info.PTS = append(info.PTS, *pk.DTS)
		default:
			synth = true
		}
	}
	if len(p.Packets) == 0 {
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
		for i := range p.Packets {
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

// hasAudio asks only when audio is to be kept: most exports drop it.
func hasAudio(ctx context.Context, path string) bool {
	out, err := exec.CommandContext(ctx, "ffprobe", "-v", "error", "-select_streams", "a",
		"-show_entries", "stream=index", "-of", "csv=p=0", path).Output()
	return err == nil && strings.TrimSpace(string(out)) != ""
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
