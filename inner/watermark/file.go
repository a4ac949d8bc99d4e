package watermark

import (
	"context"
	"errors"
	"fmt"
	"io"

	"sealgate/inner/video"
)

// TraceResult is a detection with what was read.
type TraceResult struct {
	Result
	Width  int `json:"width"`
	Height int `json:"height"`
	// Damaged is set when the suspect stopped decoding early; the frames
	// before the damage were still read.
	Damaged string `json:"damaged,omitempty"`
}

// Trace reads up to MaxFrames frames of a suspect copy and looks for a mark
// made with key. Not finding one is not an error.
func Trace(ctx context.Context, path string, key *Key) (*TraceResult, error) {
	info, err := video.Probe(ctx, path)
	if err != nil {
		return nil, err
	}
	det, err := NewDetector(key, info.Width, info.Height, DefaultStep)
	if err != nil {
		return nil, err
	}
	dec, err := video.NewDecoder(ctx, info, video.DecodeOptions{})
	if err != nil {
		return nil, err
	}
	defer dec.Close()
	res := &TraceResult{Width: info.Width, Height: info.Height}
	f := video.NewFrame(info.Width, info.Height)
	for {
		_, err := dec.Next(f)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			// A leaked copy is often cut or damaged: what decoded still counts.
			if det.Frames() == 0 {
				return nil, err
			}
			res.Damaged = err.Error()
			break
		}
		if err := det.Add(f); errors.Is(err, ErrEnough) {
			break
		} else if err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("trace %s: %w", path, err)
	}
	res.Result = det.Result()
	if res.Found {
		return res, nil
	}
	// Nothing yet: read the start again as an off-centre crop.
	dec2, err := video.NewDecoder(ctx, info, video.DecodeOptions{})
	if err != nil {
		return nil, err
	}
	defer dec2.Close()
	for range min(CropFrames, det.Frames()) {
		if _, err := dec2.Next(f); err != nil {
			break // what the first reading got past, it got past then too
		}
		if err := det.AddOffCentre(f); err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("trace %s: %w", path, err)
	}
	res.Result = det.ResultOffCentre(res.Result)
	return res, nil
}
