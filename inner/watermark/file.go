package watermark

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"time"

	"golang.org/x/sync/errgroup"

	"sealgate/inner/video"
)

// MarkResult describes a marked file.
type MarkResult struct {
	Payload string  `json:"payload"`
	Frames  int     `json:"frames"`
	PSNR    float64 `json:"psnr_db"` // luma, marks against the decoded input
	FPS     float64 `json:"fps"`
	Seconds float64 `json:"seconds"`
	Codec   string  `json:"codec"`
}

// MarkFile re-encodes in to out with every frame marked with p, in one
// decode → mark → encode pass that keeps every timestamp (the masking
// pipeline marks inside its own render pass instead).
func MarkFile(ctx context.Context, in, out string, key *Key, p Payload, enc video.EncodeOptions) (*MarkResult, error) {
	info, err := video.Probe(ctx, in)
	if err != nil {
		return nil, err
	}
	em, err := NewEmbedder(key, p, info.Width, info.Height, DefaultStep)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	dec, err := video.NewDecoder(ctx, info, video.DecodeOptions{})
	if err != nil {
		return nil, err
	}
	defer dec.Close()
	e, err := video.NewEncoder(ctx, info, out, enc)
	if err != nil {
		return nil, err
	}
	// Two frames in flight: decoding the next overlaps marking this one.
	pool, full := make(chan *video.Frame, 2), make(chan *video.Frame, 2)
	for range cap(pool) {
		pool <- video.NewFrame(info.Width, info.Height)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		defer close(full)
		for {
			var f *video.Frame
			select {
			case f = <-pool:
			case <-gctx.Done():
				return gctx.Err()
			}
			if _, err := dec.Next(f); errors.Is(err, io.EOF) {
				return nil
			} else if err != nil {
				return err
			}
			full <- f
		}
	})
	g.Go(func() error {
		for f := range full {
			if err := em.Embed(f); err != nil {
				return err
			}
			if err := e.Write(f); err != nil {
				return err
			}
			pool <- f
		}
		return gctx.Err()
	})
	if err := g.Wait(); err != nil {
		e.Abort()
		return nil, err
	}
	if err := e.Close(); err != nil {
		return nil, err
	}
	secs := time.Since(start).Seconds()
	return &MarkResult{Payload: p.String(), Frames: info.Frames(), PSNR: finite(em.PSNR()), FPS: float64(info.Frames()) / max(secs, 1e-9),
		Seconds: secs, Codec: e.Level().Codec()}, nil
}

// finite caps an unchanged video's infinite PSNR for JSON.
func finite(db float64) float64 { return math.Min(db, 99) }

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
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
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
	return res, nil
}
