package console

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
)

// cameraName answers the form's check, as the operator types, whether a
// name is free among cameras in service.
func (c *Console) cameraName(e echo.Context) error {
	except, _ := strconv.ParseInt(e.QueryParam("except"), 10, 64)
	free, err := c.workflow.CameraNameFree(e.Request().Context(), e.QueryParam("name"), except)
	if err != nil {
		return err
	}
	return e.JSON(http.StatusOK, map[string]bool{"free": free})
}
