package console

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
)

// exportDecide approves, rejects, cancels or retries an export, or
// approves its long viewing period; the
// workflow enforces who may (roles, separation of duties).
func (c *Console) exportDecide(e echo.Context) error {
	id, err := strconv.ParseInt(e.Param("id"), 10, 64)
	if err != nil {
		return echo.ErrNotFound
	}
	ctx, a, why := e.Request().Context(), actor(e), e.FormValue("reason")
	switch e.Param("verb") {
	case "approve":
		err = c.workflow.Approve(ctx, a, id, why)
	case "reject":
		err = c.workflow.Reject(ctx, a, id, why)
	case "cancel":
		err = c.workflow.Cancel(ctx, a, id, why)
	case "retry":
		err = c.workflow.Retry(ctx, a, id)
	case "viewing":
		err = c.workflow.ApproveViewing(ctx, a, id, why)
	default:
		return echo.ErrNotFound
	}
	if msgs, ok := fieldErrors(e, err); ok {
		for _, m := range msgs {
			return echo.NewHTTPError(http.StatusUnprocessableEntity, m)
		}
	}
	if err != nil {
		return workflowError(err)
	}
	return e.Redirect(http.StatusSeeOther, fmt.Sprintf("/exports/%d", id))
}
