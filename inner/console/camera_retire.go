package console

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
)

// cameraRetire takes a camera out of service; its footage and exports stay.
func (c *Console) cameraRetire(e echo.Context) error {
	id, err := strconv.ParseInt(e.Param("id"), 10, 64)
	if err != nil {
		return echo.ErrNotFound
	}
	if err := c.workflow.RetireCamera(e.Request().Context(), actor(e), id); err != nil {
		return workflowError(err)
	}
	return e.Redirect(http.StatusSeeOther, "/cameras")
}
