package innerd

import (
	"context"
	"errors"
	"fmt"
	"time"

	"sealgate/appliance/cli"
	"sealgate/appliance/daemon"
	"sealgate/inner/ledger"
	"sealgate/inner/mask"
	"sealgate/inner/video"
	"sealgate/inner/watermark"
	"sealgate/shared/atomicfile"
	"sealgate/shared/audit"
	"sealgate/shared/config"
	"sealgate/shared/keys"
)

type watermarkCmd struct {
	In      string `required:"" type:"existingfile" help:"Video to mark (anything ffmpeg decodes)."`
	Out     string `required:"" help:"Marked H.264 MP4 to write (same frames and timestamps as the input)."`
	Payload string `help:"64-bit payload, 16 hex digits (appliance number, then export serial). Or --requester and --reason: the next serial from the ledger."`
	KeyDir  string `name:"key-dir" help:"Inner key directory (its watermark.key keys the mark); with --requester, default the configured one."`
	CRF     int    `default:"20" help:"x264 quality (lower is better)."`
	JSON    bool   `help:"Print one JSON object."`
	exportFlags
}

func (c *watermarkCmd) Run(ctx context.Context, app *daemon.App) error {
	if err := atomicfile.CheckAbsent(c.Out); err != nil { // before a serial is taken or a frame decoded; the encoder refuses it too
		return fmt.Errorf("--out: %w", err)
	}
	// The masking pipeline with no detectors and no plan is exactly a
	// decode → mark → encode pass that keeps every timestamp.
	render := func(wm *mask.Watermark) (*mask.Result, error) {
		return mask.Mask(ctx, c.In, c.Out, mask.Options{Detect: []string{}, Encode: video.EncodeOptions{CRF: c.CRF}, Watermark: wm})
	}
	var res *mask.Result
	var export *ledger.Entry
	var err error
	switch {
	case c.Payload != "" && c.fromLedger():
		return fmt.Errorf("give --payload or --requester and --reason (the ledger's next serial), not both")
	case c.fromLedger():
		res, export, err = c.issue(ctx, app, c.In, c.Out, c.KeyDir, render)
	case c.Payload == "" || c.KeyDir == "":
		return fmt.Errorf("give --payload and --key-dir, or --requester and --reason to take the ledger's next serial")
	default:
		var wm *mask.Watermark
		if wm, err = handMark(c.Payload, c.KeyDir); err == nil {
			res, err = render(wm)
		}
	}
	if err != nil {
		return err
	}
	out := markResult{Payload: res.Watermark, Frames: res.Frames, PSNR: res.WatermarkPSNR, FPS: res.FPS, Seconds: res.Seconds, Codec: res.Codec, Export: export}
	if c.JSON {
		return cli.PrintJSON(app.Stdout, out)
	}
	fmt.Fprintf(app.Stdout, "Marked %s into %s with payload %s: %d frames, luma PSNR %.1f dB, %.1f fps.\n",
		c.In, c.Out, out.Payload, out.Frames, out.PSNR, out.FPS)
	if export != nil {
		fmt.Fprintf(app.Stdout, "  ledger: export serial %d for %q (%q), output SHA-256 %s\n", export.Serial, export.Requester, export.Reason, export.OutputSHA256)
	}
	return nil
}

// handMark is the mark of a payload given on the command line.
func handMark(payload, keyDir string) (*mask.Watermark, error) {
	p, err := watermark.ParsePayload(payload)
	if err != nil {
		return nil, err
	}
	key, err := loadWatermarkKey(keyDir)
	if err != nil {
		return nil, err
	}
	return &mask.Watermark{Key: key, Payload: p}, nil
}

// markResult is the JSON of `watermark`.
type markResult struct {
	Payload string  `json:"payload"`
	Frames  int     `json:"frames"`
	PSNR    float64 `json:"psnr_db"` // luma, marks against the decoded input
	FPS     float64 `json:"fps"`
	Seconds float64 `json:"seconds"`
	Codec   string  `json:"codec"`
	// Export is the copy's ledger row when the serial came from the ledger.
	Export *ledger.Entry `json:"export,omitempty"`
}

type traceCmd struct {
	In     string `required:"" type:"existingfile" help:"Suspect video (any copy: re-encoded, scaled, cut)."`
	KeyDir string `name:"key-dir" help:"Inner key directory (its watermark.key); default the configured one with --config."`
	Config string `short:"c" help:"Daemon configuration file: also look the export up in its ledger."`
	JSON   bool   `help:"Print one JSON object."`
}

// traceResult is the JSON of trace: the detector's result and, with
// --config, the export's ledger row (absent when the ledger does not hold
// the payload).
type traceResult struct {
	*watermark.TraceResult
	Export *ledger.Entry `json:"export,omitempty"`
}

// Run exits 0 whether or not a mark is found; only errors are non-zero
// (docs/architecture.md, "Contracts").
func (c *traceCmd) Run(ctx context.Context, app *daemon.App) error {
	keyDir := c.KeyDir
	var cfg *config.Inner
	if c.Config != "" {
		var err error
		if cfg, err = config.LoadInner(c.Config, app.Environ); err != nil {
			return err
		}
		if keyDir == "" {
			keyDir = cfg.KeyDir
		}
	}
	if keyDir == "" {
		return fmt.Errorf("give --key-dir (the inner key directory) or --config")
	}
	key, err := loadWatermarkKey(keyDir)
	if err != nil {
		return err
	}
	res, err := watermark.Trace(ctx, c.In, key)
	if err != nil {
		return err
	}
	out := traceResult{TraceResult: res}
	if cfg != nil && res.Found {
		if out.Export, err = lookUp(ctx, app, cfg, c.Config, res.Payload); err != nil {
			return err
		}
	}
	if c.JSON {
		return cli.PrintJSON(app.Stdout, out)
	}
	if !res.Found {
		fmt.Fprintf(app.Stdout, "No watermark of this appliance found in %s (%d frames read).\n", c.In, res.Frames)
		return nil
	}
	p, _ := watermark.ParsePayload(res.Payload)
	fmt.Fprintf(app.Stdout, "Found payload %s (appliance %d, export serial %d) in %s: %d frames read, p ≤ %.1e.\n",
		res.Payload, p.Appliance(), p.Serial(), c.In, res.Frames, res.PValue)
	switch e := out.Export; {
	case e != nil:
		fmt.Fprintf(app.Stdout, "  ledger: issued %s by %s for %q (%q) from %s; copy SHA-256 %s\n",
			e.IssuedAt.Local().Format(time.DateTime), e.IssuedBy, e.Requester, e.Reason, e.SourceName, e.OutputSHA256)
	case cfg != nil:
		fmt.Fprintln(app.Stdout, "  ledger: no export with this payload (marked by hand, or by another ledger)")
	}
	return nil
}

// lookUp reads a traced payload's ledger row; nil when the ledger does not
// hold it.
func lookUp(ctx context.Context, app *daemon.App, cfg *config.Inner, path, payload string) (*ledger.Entry, error) {
	p, err := watermark.ParsePayload(payload)
	if err != nil {
		return nil, err
	}
	var e *ledger.Entry
	err = daemon.WithDatabase(ctx, app, path, func(_ *config.Base, db *daemon.Database, log *audit.Log, _ *keys.Secrets) error {
		l, err := ledger.New(db.Pool, log, cfg.ApplianceNumber)
		if err != nil {
			return err
		}
		e, err = l.Lookup(ctx, p)
		if errors.Is(err, ledger.ErrNotFound) {
			return nil
		}
		return err
	})
	return e, err
}

func loadWatermarkKey(dir string) (*watermark.Key, error) {
	secret, err := keys.LoadWatermark(dir)
	if err != nil {
		return nil, err
	}
	return watermark.NewKey(secret)
}
