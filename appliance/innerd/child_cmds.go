package innerd

import (
	"context"
	"fmt"
	"io"
	"os"

	"sealgate/appliance/cli"
	"sealgate/appliance/daemon"
	"sealgate/inner/export"
	"sealgate/inner/pipeline"
	"sealgate/inner/watermark"
)

// The commands the daemon runs as confined children (inner/child): each
// gets its input as a descriptor and any secret on stdin, never a key
// directory, and answers on stdout for the daemon to read within a bound.

// traceChildCmd is the console's trace of an uploaded suspect copy.
type traceChildCmd struct {
	In string `required:"" type:"existingfile" help:"The suspect copy."`
}

func (c *traceChildCmd) Run(ctx context.Context, app *daemon.App) error {
	key, err := readWatermarkKey(os.Stdin)
	if err != nil {
		return err
	}
	res, err := watermark.Trace(ctx, c.In, key)
	if err != nil {
		return err
	}
	return cli.PrintJSON(app.Stdout, res)
}

// renderChildCmd is the pipeline's render stage of one export: the job,
// key included, on stdin (inner/pipeline.RenderChild).
type renderChildCmd struct{}

func (c *renderChildCmd) Run(ctx context.Context, app *daemon.App) error {
	return pipeline.RenderChild(ctx, os.Stdin, app.Stdout, app.Stderr)
}

// probeChildCmd probes one file for ingest (inner/export.ProbeChild).
type probeChildCmd struct {
	In string `required:"" type:"existingfile" help:"The file, as a descriptor path."`
}

func (c *probeChildCmd) Run(ctx context.Context, app *daemon.App) error {
	return export.ProbeChild(ctx, c.In, app.Stdout)
}

// readWatermarkKey reads the watermark key's secret the daemon wrote on a
// child's stdin.
func readWatermarkKey(r io.Reader) (*watermark.Key, error) {
	secret, err := io.ReadAll(io.LimitReader(r, watermark.KeySize+1))
	if err != nil {
		return nil, fmt.Errorf("the watermark key on stdin: %w", err)
	}
	return watermark.NewKey(secret)
}
