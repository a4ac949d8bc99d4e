package console

import (
	"context"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"sealgate/inner/review"
	"sealgate/shared/accountui"
	"sealgate/shared/audit"
)

// planSave makes the draft the clip's mask plan, on record.
func (c *Console) planSave(e echo.Context) error {
	id := e.Param("id")
	s := accountui.Session(e)
	saved, err := c.reviews.Save(e.Request().Context(), id, s.User.Username, func(ctx context.Context, sv review.Saved) error {
		n := sv.Counts
		return c.audit.Append(ctx, audit.Entry{Actor: s.User.Username, Action: "mask.plan.save", Target: "review:" + id,
			Outcome: audit.OK, Remote: e.RealIP(), Detail: fmt.Sprintf("plan sha256:%s, %d tracks: %d manual, %d subjects and %d false detections left unmasked",
				sv.SHA256, n.Tracks, n.Manual, n.Subjects, n.NotSensitive)})
	})
	if err != nil {
		return httpError(err)
	}
	return e.JSON(http.StatusOK, map[string]string{"plan_sha256": saved.SHA256})
}
