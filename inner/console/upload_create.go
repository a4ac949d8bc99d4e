package console

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"sealgate/shared/accountui"
)

// uploadCreate starts a resumable upload for the signed-in user.
func (c *Console) uploadCreate(e echo.Context) error {
	id, err := c.uploads.Create(accountui.Session(e).User.Username)
	if err != nil {
		return err
	}
	return e.JSON(http.StatusCreated, map[string]any{"id": id, "offset": 0})
}
