package console

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"sealgate/inner/mask/plan"
	"sealgate/inner/review"
)

// trackBoxSet corrects a drawn track's box on one frame (moved or resized
// by the reviewer) and, if Seconds is set, tracks the corrected box
// forwards again, replacing the rest of the track: how a track that
// drifted is put right.
func (c *Console) trackBoxSet(e echo.Context) error {
	ctx := e.Request().Context()
	id, err := trackID(e)
	if err != nil {
		return err
	}
	w, err := c.reviews.Ready(ctx, e.Param("id"))
	if err != nil {
		return httpError(err)
	}
	var req boxRequest
	if err := readJSON(e, &req); err != nil {
		return err
	}
	box := req.box()
	// Refused before the slow re-tracking; the edit checks again.
	p, err := c.reviews.Draft(ctx, w.ID)
	if err != nil {
		return httpError(err)
	}
	if err := p.CheckBox(id, box); err != nil {
		return httpError(err)
	}
	var tail []plan.Box
	if req.Seconds > 0 {
		worker, err := c.worker(e, w)
		if err != nil {
			return err
		}
		if tail, err = c.track(ctx, worker, req, review.Forwards); err != nil {
			return err
		}
	}
	var t plan.Track
	err = c.reviews.Edit(ctx, w.ID, func(p *plan.Plan) (err error) {
		if req.Seconds > 0 {
			t, err = p.Retrack(id, box, tail)
		} else {
			t, err = p.SetBox(id, box)
		}
		return err
	})
	if err != nil {
		return httpError(err)
	}
	return e.JSON(http.StatusOK, summary(t))
}
