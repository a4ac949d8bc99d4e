package console

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"sealgate/inner/upload"
	"sealgate/shared/accountui"
)

// uploadOffset tells a resuming client how much of its upload arrived.
func (c *Console) uploadOffset(e echo.Context) error {
	n, err := c.uploads.Offset(accountui.Session(e).User.Username, e.Param("id"))
	if errors.Is(err, upload.ErrUnknown) {
		return echo.ErrNotFound
	}
	if err != nil {
		return err
	}
	return e.JSON(http.StatusOK, map[string]int64{"offset": n})
}
