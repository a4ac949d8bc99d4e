package console

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
)

// exportDecide approves, rejects, cancels or retries an export, approves
// its long viewing period, or releases it after the leak check; the
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
	case "release":
		var confirmed []int
		if err := e.Request().ParseForm(); err != nil {
			return echo.ErrBadRequest
		}
		for _, v := range e.Request().Form["confirm"] {
			n, err := strconv.Atoi(v)
			if err != nil {
				return echo.NewHTTPError(http.StatusBadRequest, "confirm: a suspect's number")
			}
			confirmed = append(confirmed, n)
		}
		err = c.workflow.Release(ctx, a, id, confirmed, why)
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
