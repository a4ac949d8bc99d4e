package portal

import (
	"errors"
	"fmt"
	"net/http"
	"os"

	"github.com/labstack/echo/v4"

	"sealgate/outer/license"
	"sealgate/shared/accountui"
)

// packageMedia serves the sealed package's bytes to the player, by Range:
// only to the session a license was released to (the audited play), so
// its Range requests are not audited one by one. The bytes are the
// encrypted package as stored; nothing is decrypted here.
func (p *Portal) packageMedia(c echo.Context) error {
	s := accountui.Session(c)
	pkg, err := p.cfg.License.Media(c.Request().Context(), s.User.Username, c.Param("id"), s.IDHash)
	if errors.Is(err, license.ErrNoLicense) {
		return echo.NewHTTPError(http.StatusForbidden, "player.no_license")
	}
	if err != nil {
		return packageError(err)
	}
	f, err := os.Open(pkg.Path)
	if err != nil {
		return fmt.Errorf("portal: open package %s: %w", pkg.ID, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("portal: package %s: %w", pkg.ID, err)
	}
	h := c.Response().Header()
	h.Set("Cache-Control", "no-store")
	h.Set(echo.HeaderContentType, "application/octet-stream")
	http.ServeContent(c.Response(), c.Request(), "", fi.ModTime(), f)
	return nil
}
