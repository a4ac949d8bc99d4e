package export

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"sealgate/inner/child"
	"sealgate/inner/video"
)

// ProbeCommand is the child command that probes one file for ingest:
// FFmpeg's demuxer parses an uploaded or imported file, which may have
// been crafted, so it does so in a confined child (inner/child), never in
// the daemon.
const ProbeCommand = "probe-child"

// facts are what ingest learns of a file, as the probe child answers.
type facts struct {
	Container string     `json:"container"`
	Codec     string     `json:"codec"`
	Width     int        `json:"width"`
	Height    int        `json:"height"`
	FPS       float64    `json:"fps"`
	Frames    int        `json:"frames"`
	DurationS float64    `json:"duration_s"`
	StartedAt *time.Time `json:"started_at,omitempty"`
	NotVideo  string     `json:"not_video,omitempty"` // why the file is not video
}

// maxFacts bounds the probe child's answer.
const maxFacts = 64 << 10

// ProbeChild is `sealgate-inner probe-child --in PATH`, run by the probe
// child: it probes the file and answers with its facts on stdout. A file
// that is not video is an answer, not a failure, so the daemon can tell
// it apart from a child that died.
func ProbeChild(ctx context.Context, path string, stdout io.Writer) error {
	f, err := probeHere(ctx, path)
	if errors.Is(err, video.ErrNotVideo) {
		f, err = &facts{NotVideo: err.Error()}, nil
	}
	if err != nil {
		return err
	}
	return json.NewEncoder(stdout).Encode(f)
}

func probeHere(ctx context.Context, path string) (*facts, error) {
	info, err := video.Probe(ctx, path)
	if err != nil {
		return nil, err
	}
	format, err := video.ReadFormat(ctx, path)
	if err != nil {
		return nil, err
	}
	f := &facts{Container: format.Container, Codec: info.Codec, Width: info.Width, Height: info.Height, FPS: info.FrameRate,
		Frames: info.Frames(), DurationS: duration(info)}
	if !format.StartedAt.IsZero() {
		f.StartedAt = &format.StartedAt
	}
	return f, nil
}

// probe runs the probe child on path and returns what it found; a file
// that is not video is video.ErrNotVideo, with the child's words.
func probe(ctx context.Context, path string) (*facts, error) {
	j, err := child.NewJob()
	if err != nil {
		return nil, err
	}
	defer j.Close()
	in, err := j.Input(path)
	if err != nil {
		return nil, err
	}
	out, err := j.Run(ctx, child.Options{MaxStdout: maxFacts}, ProbeCommand, "--in", in)
	if err != nil {
		return nil, fmt.Errorf("export: probe: %w", err)
	}
	var f facts
	if err := json.Unmarshal(out, &f); err != nil {
		return nil, fmt.Errorf("export: the probe's answer: %w", err)
	}
	if f.NotVideo != "" {
		return nil, fmt.Errorf("%w (%s)", video.ErrNotVideo, j.Explain(f.NotVideo))
	}
	if f.Width <= 0 || f.Height <= 0 || f.Frames <= 0 || f.FPS < 0 || f.DurationS < 0 {
		return nil, fmt.Errorf("export: the probe answered impossible facts: %+v", f)
	}
	return &f, nil
}
