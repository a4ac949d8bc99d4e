package console

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"sealgate/inner/review"
)

// reviewFrame is one frame as JPEG; masked=1 masks it with the draft as
// the export will (the same renderer, at full resolution, then scaled).
func (c *Console) reviewFrame(e echo.Context) error {
	ctx := e.Request().Context()
	w, err := c.reviews.Ready(ctx, e.Param("id"))
	if err != nil {
		return httpError(err)
	}
	n, err := strconv.Atoi(e.QueryParam("n"))
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "n: the frame number")
	}
	var spec *review.MaskSpec
	if e.QueryParam("masked") == "1" {
		p, err := c.reviews.Draft(ctx, w.ID)
		if err != nil {
			return httpError(err)
		}
		spec = &review.MaskSpec{Style: p.Style, Margin: p.Margin, Boxes: p.BoxesAt(n)}
	}
	if spec == nil {
		a := actor(e)
		if err := c.raw.seen(ctx, a.User, a.Remote, w.ID, n); err != nil {
			return fmt.Errorf("console: record the raw frame seen: %w", err)
		}
	}
	worker, err := c.worker(e, w)
	if err != nil {
		return err
	}
	img, err := worker.Frame(ctx, n, displayWidth, spec)
	if err != nil {
		return httpError(err)
	}
	e.Response().Header().Set("Cache-Control", "no-store")
	return e.Blob(http.StatusOK, "image/jpeg", img)
}
