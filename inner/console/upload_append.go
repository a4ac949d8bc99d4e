package console

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"sealgate/inner/upload"
	"sealgate/shared/accountui"
)

// uploadAppend takes one chunk at the offset the client names (header
// Upload-Offset); a chunk for any other offset is refused with the offset
// the server holds, from which the client resends.
func (c *Console) uploadAppend(e echo.Context) error {
	offset, err := strconv.ParseInt(e.Request().Header.Get("Upload-Offset"), 10, 64)
	if err != nil || offset < 0 {
		return echo.NewHTTPError(http.StatusBadRequest, "Upload-Offset header missing or malformed")
	}
	n, err := c.uploads.Append(accountui.Session(e).User.Username, e.Param("id"), offset, e.Request().Body)
	switch {
	case errors.Is(err, upload.ErrUnknown):
		return echo.ErrNotFound
	case errors.Is(err, upload.ErrOffset):
		return e.JSON(http.StatusConflict, map[string]int64{"offset": n})
	case errors.Is(err, upload.ErrTooLarge):
		return echo.NewHTTPError(http.StatusRequestEntityTooLarge, err.Error())
	case err != nil:
		return err
	}
	return e.JSON(http.StatusOK, map[string]int64{"offset": n})
}
