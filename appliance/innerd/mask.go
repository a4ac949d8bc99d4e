package innerd

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"sealgate/appliance/cli"
	"sealgate/appliance/daemon"
	"sealgate/inner/ledger"
	"sealgate/inner/mask"
	"sealgate/inner/mask/plan"
	"sealgate/inner/video"
	"sealgate/shared/atomicfile"
)

type maskCmd struct {
	In        string  `required:"" type:"existingfile" help:"Video to mask (anything ffmpeg decodes)."`
	Out       string  `help:"Masked H.264 MP4 to write (same frames and timestamps as the input). Without it, only analyse: --plan-out is then required."`
	Detect    string  `default:"faces,plates" help:"Detectors, comma-separated: faces, small-faces (faces down to 20 px tall at native resolution, for fixed CCTV cameras), people, plates (empty: none, only the plan's boxes)."`
	Style     string  `default:"mosaic" enum:"mosaic,blur,solid" help:"How regions are masked: mosaic, blur or solid."`
	Margin    float64 `default:"0.15" help:"Fraction of each box added on every side."`
	Plan      string  `type:"existingfile" help:"Mask plan JSON: its manual boxes are added and its excluded tracks left unmasked."`
	PlanOut   string  `help:"Write the resulting mask plan (JSON) here."`
	Models    string  `help:"Directory with the face model and ONNX Runtime (default: $SEALGATE_MODELS, /usr/share/sealgate/models, var/assets)."`
	CRF       int     `default:"20" help:"x264 quality (lower is better; 18–23 for evidence)."`
	KeepAudio bool    `help:"Keep the first audio track (dropped by default)."`
	LeakCheck bool    `help:"Check the output with independent detectors and list frames that may still show a face."`
	Watermark string  `help:"Also embed this 64-bit forensic watermark payload (16 hex digits) in the same pass; needs --key-dir. Or --requester and --reason: the next serial from the ledger."`
	KeyDir    string  `name:"key-dir" help:"Inner key directory whose watermark.key keys the mark; with --requester, default the configured one."`
	JSON      bool    `help:"Print one JSON object."`
	Progress  bool    `help:"Report progress on stderr, about once a second, as JSON lines {\"frame\":N,\"frames\":M}."`
	exportFlags
}

func (c *maskCmd) Run(ctx context.Context, app *daemon.App) error {
	switch {
	case c.Out == "" && c.PlanOut == "":
		return fmt.Errorf("give --out (mask the clip) or --plan-out alone (only analyse)")
	case c.Out == "" && (c.LeakCheck || c.Watermark != "" || c.KeepAudio || c.fromLedger()):
		return fmt.Errorf("--leak-check, --watermark, --requester and --keep-audio need --out")
	case c.Watermark != "" && c.fromLedger():
		return fmt.Errorf("give --watermark or --requester and --reason (the ledger's next serial), not both")
	case c.Out != "" && c.Out == c.PlanOut:
		return fmt.Errorf("--out and --plan-out are the same file")
	}
	// Both are written create-only; refuse before the run, not after it.
	if c.Out != "" {
		if err := atomicfile.CheckAbsent(c.Out); err != nil {
			return fmt.Errorf("--out: %w", err)
		}
	}
	if c.PlanOut != "" {
		if err := atomicfile.CheckAbsent(c.PlanOut); err != nil {
			return fmt.Errorf("--plan-out: %w", err)
		}
	}
	dets, err := mask.ParseDetect(c.Detect)
	if err != nil {
		return err
	}
	opts := mask.Options{Detect: dets, Style: c.Style, Margin: c.Margin, ModelsDir: c.Models,
		Encode: video.EncodeOptions{CRF: c.CRF, KeepAudio: c.KeepAudio}}
	if c.Watermark != "" {
		if c.KeyDir == "" {
			return fmt.Errorf("--watermark needs --key-dir (the inner key directory)")
		}
		if opts.Watermark, err = handMark(c.Watermark, c.KeyDir); err != nil {
			return err
		}
	}
	if c.Plan != "" {
		f, err := os.Open(c.Plan)
		if err != nil {
			return err
		}
		opts.Plan, err = plan.Parse(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", c.Plan, err)
		}
	}
	if c.Progress {
		progress := json.NewEncoder(app.Stderr)
		opts.Progress = func(p mask.Progress) { progress.Encode(map[string]int{"frame": p.Frame, "frames": p.Frames}) }
	}
	var res *mask.Result
	var export *ledger.Entry
	if c.fromLedger() {
		res, export, err = c.issue(ctx, app, c.In, c.Out, c.KeyDir, func(wm *mask.Watermark) (*mask.Result, error) {
			opts.Watermark = wm
			return mask.Mask(ctx, c.In, c.Out, opts)
		})
	} else {
		res, err = mask.Mask(ctx, c.In, c.Out, opts)
	}
	if err != nil {
		return err
	}
	if c.LeakCheck {
		if res.Leaks, err = mask.LeakCheck(ctx, c.Out, res.Plan, c.Models); err != nil {
			return fmt.Errorf("leak check: %w", err)
		}
	}
	if c.PlanOut != "" {
		b, err := res.Plan.Encode()
		if err != nil {
			return err
		}
		if err := atomicfile.WriteFile(c.PlanOut, b, 0o600); err != nil {
			return fmt.Errorf("--plan-out: %w", err)
		}
	}
	if c.JSON {
		return cli.PrintJSON(app.Stdout, struct {
			*mask.Result
			Export *ledger.Entry `json:"export,omitempty"`
		}{res, export})
	}
	if c.Out == "" {
		fmt.Fprintf(app.Stdout, "Analysed %s: %d frames, %d with boxes, %d detections in %d tracks, %.1f fps; plan in %s (SHA-256 %s).\n",
			c.In, res.Frames, res.MaskedFrames, res.Detections, res.Tracks, res.FPS, c.PlanOut, res.PlanSHA256)
		return nil
	}
	fmt.Fprintf(app.Stdout, "Masked %s into %s: %d frames, %d masked, %d detections in %d tracks, %.1f fps.\n  codec: %s  plan SHA-256: %s\n",
		c.In, c.Out, res.Frames, res.MaskedFrames, res.Detections, res.Tracks, res.FPS, res.Codec, res.PlanSHA256)
	if res.Watermark != "" {
		fmt.Fprintf(app.Stdout, "  watermark %s embedded, luma PSNR %.1f dB\n", res.Watermark, res.WatermarkPSNR)
	}
	if export != nil {
		fmt.Fprintf(app.Stdout, "  ledger: export serial %d for %q (%q), output SHA-256 %s\n", export.Serial, export.Requester, export.Reason, export.OutputSHA256)
	}
	if res.Leaks != nil {
		fmt.Fprintf(app.Stdout, "  leak check: %d frames checked, %d suspects\n", res.Leaks.FramesChecked, len(res.Leaks.Suspects))
		for _, s := range res.Leaks.Suspects {
			fmt.Fprintf(app.Stdout, "    frame %d: %s at %d,%d %d×%d\n", s.Frame, s.Reason, s.X, s.Y, s.W, s.H)
		}
	}
	return nil
}
