package innerd

import (
	"context"
	"os"

	"sealgate/appliance/daemon"
	"sealgate/inner/review"
)

// reviewWorkerCmd is the child the console starts per clip under review
// (inner/review): FFmpeg and OpenCV work on the clip here, not in the daemon.
type reviewWorkerCmd struct {
	In string `required:"" type:"existingfile" help:"The clip under review."`
}

func (c *reviewWorkerCmd) Run(ctx context.Context, app *daemon.App) error {
	return review.Serve(ctx, c.In, os.Stdin, app.Stdout)
}
