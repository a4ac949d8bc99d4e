package console

import (
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"

	"github.com/labstack/echo/v4"

	"sealgate/inner/upload"
	"sealgate/inner/video"
	"sealgate/shared/accountui"
)

// footageCreate ingests a finished upload for a camera: hashed, probed and
// kept, or refused with the reason and removed.
func (c *Console) footageCreate(e echo.Context) error {
	cam, err := strconv.ParseInt(e.FormValue("camera"), 10, 64)
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "choose a camera")
	}
	path, err := c.uploads.Path(accountui.Session(e).User.Username, e.FormValue("upload"))
	if errors.Is(err, upload.ErrUnknown) {
		return echo.ErrNotFound
	}
	if err != nil {
		return err
	}
	name := filepath.Base(e.FormValue("name"))
	if name == "." || name == "/" || name == "" {
		name = "upload.mp4"
	}
	f, err := c.workflow.Adopt(e.Request().Context(), actor(e), cam, name, path)
	if errors.Is(err, video.ErrNotVideo) {
		return echo.NewHTTPError(http.StatusUnprocessableEntity, err.Error())
	}
	if err != nil {
		return workflowError(err)
	}
	return e.JSON(http.StatusCreated, map[string]any{"id": f.ID, "sha256": f.SHA256, "location": fmt.Sprintf("/exports/new?footage=%d", f.ID)})
}
