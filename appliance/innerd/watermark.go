package innerd

import (
	"context"
	"fmt"
	"os"

	"sealgate/appliance/cli"
	"sealgate/appliance/daemon"
	"sealgate/inner/mask"
	"sealgate/inner/video"
	"sealgate/inner/watermark"
	"sealgate/shared/keys"
)

type watermarkCmd struct {
	In      string `required:"" type:"existingfile" help:"Video to mark (anything ffmpeg decodes)."`
	Out     string `required:"" help:"Marked H.264 MP4 to write (same frames and timestamps as the input)."`
	Payload string `required:"" help:"64-bit payload, 16 hex digits (appliance number, then export serial)."`
	KeyDir  string `required:"" name:"key-dir" help:"Inner key directory (its watermark.key keys the mark)."`
	CRF     int    `default:"20" help:"x264 quality (lower is better)."`
	JSON    bool   `help:"Print one JSON object."`
}

func (c *watermarkCmd) Run(ctx context.Context, app *daemon.App) error {
	if _, err := os.Stat(c.Out); err == nil {
		return fmt.Errorf("%s exists; the marked video is never written over an existing file", c.Out)
	}
	p, err := watermark.ParsePayload(c.Payload)
	if err != nil {
		return err
	}
	key, err := loadWatermarkKey(c.KeyDir)
	if err != nil {
		return err
	}
	// The masking pipeline with no detectors and no plan is exactly a
	// decode → mark → encode pass that keeps every timestamp.
	res, err := mask.Mask(ctx, c.In, c.Out, mask.Options{Detect: []string{}, Encode: video.EncodeOptions{CRF: c.CRF},
		Watermark: &mask.Watermark{Key: key, Payload: p}})
	if err != nil {
		return err
	}
	out := markResult{Payload: res.Watermark, Frames: res.Frames, PSNR: res.WatermarkPSNR, FPS: res.FPS, Seconds: res.Seconds, Codec: res.Codec}
	if c.JSON {
		return cli.PrintJSON(app.Stdout, out)
	}
	fmt.Fprintf(app.Stdout, "Marked %s into %s with payload %s: %d frames, luma PSNR %.1f dB, %.1f fps.\n",
		c.In, c.Out, out.Payload, out.Frames, out.PSNR, out.FPS)
	return nil
}

// markResult is the JSON of `watermark`.
type markResult struct {
	Payload string  `json:"payload"`
	Frames  int     `json:"frames"`
	PSNR    float64 `json:"psnr_db"` // luma, marks against the decoded input
	FPS     float64 `json:"fps"`
	Seconds float64 `json:"seconds"`
	Codec   string  `json:"codec"`
}

type traceCmd struct {
	In     string `required:"" type:"existingfile" help:"Suspect video (any copy: re-encoded, scaled, cut)."`
	KeyDir string `required:"" name:"key-dir" help:"Inner key directory (its watermark.key)."`
	JSON   bool   `help:"Print one JSON object."`
}

// Run exits 0 whether or not a mark is found; only errors are non-zero
// (DESIGN.md §6).
func (c *traceCmd) Run(ctx context.Context, app *daemon.App) error {
	key, err := loadWatermarkKey(c.KeyDir)
	if err != nil {
		return err
	}
	res, err := watermark.Trace(ctx, c.In, key)
	if err != nil {
		return err
	}
	if c.JSON {
		return cli.PrintJSON(app.Stdout, res)
	}
	if !res.Found {
		fmt.Fprintf(app.Stdout, "No watermark of this appliance found in %s (%d frames read).\n", c.In, res.Frames)
		return nil
	}
	p, _ := watermark.ParsePayload(res.Payload)
	fmt.Fprintf(app.Stdout, "Found payload %s (appliance %d, export serial %d) in %s: %d frames read, p ≤ %.1e.\n",
		res.Payload, p.Appliance(), p.Serial(), c.In, res.Frames, res.PValue)
	return nil
}

func loadWatermarkKey(dir string) (*watermark.Key, error) {
	secret, err := keys.LoadWatermark(dir)
	if err != nil {
		return nil, err
	}
	return watermark.NewKey(secret)
}
