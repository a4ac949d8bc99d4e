package console

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"sealgate/inner/mask/plan"
	"sealgate/inner/review"
)

// maxTrackSeconds bounds how far one request has the worker track a box.
const maxTrackSeconds = 30

// boxRequest is a box the reviewer drew or corrected on Frame, and how many
// seconds to track it.
type boxRequest struct {
	Frame, X, Y, W, H int
	Seconds           float64
}

func (b boxRequest) box() plan.Box {
	return plan.Box{F: b.Frame, X: b.X, Y: b.Y, W: b.W, H: b.H, By: plan.ByManual}
}

// track has the clip's worker carry req's box up to maxTrackSeconds in
// direction dir.
func (c *Console) track(ctx context.Context, worker *review.Worker, req boxRequest, dir review.Direction) ([]plan.Box, error) {
	boxes, err := worker.Track(ctx, req.Frame, req.box(), trackSpan(req.Seconds, worker.Clip.FrameRate), dir)
	if err != nil {
		return nil, httpError(err)
	}
	return boxes, nil
}

// trackSpan is how many frames each way seconds of tracking is, at most
// maxTrackSeconds and review.MaxSpan. It is clamped as a float: the frame
// rate is the worker's word, and a huge one would not fit an int.
func trackSpan(seconds, fps float64) int {
	span := min(max(seconds, 0), maxTrackSeconds) * max(fps, 1)
	if !(span <= review.MaxSpan) { // NaN too
		return review.MaxSpan
	}
	return int(span)
}

// trackCreate tracks a box the reviewer drew both ways and adds it to the
// draft as a manual track.
func (c *Console) trackCreate(e echo.Context) error {
	ctx := e.Request().Context()
	w, err := c.reviews.Ready(ctx, e.Param("id"))
	if err != nil {
		return httpError(err)
	}
	var req boxRequest
	if err := readJSON(e, &req); err != nil {
		return err
	}
	worker, err := c.worker(e, w)
	if err != nil {
		return err
	}
	boxes, err := c.track(ctx, worker, req, review.BothWays)
	if err != nil {
		return err
	}
	var t plan.Track
	err = c.reviews.Edit(ctx, w.ID, func(p *plan.Plan) (err error) {
		t, err = p.AddManual(boxes)
		return err
	})
	if err != nil {
		return httpError(err)
	}
	return e.JSON(http.StatusOK, summary(t))
}
