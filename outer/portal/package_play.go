package portal

import (
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"sealgate/outer/officers"
	"sealgate/outer/pkgstore"
	"sealgate/shared/accountui"
)

// playerCSP is the portal's policy (shared/web) with one addition: the
// video element plays a MediaSource, whose URL is a blob:. Scripts still
// come from our origin only.
const playerCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self' blob:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// playPage is what the player's page shows and its overlay carries.
type playPage struct {
	ID, ExportCode string
	Name, Username string // the overlay: the account's name (else its username), and the username
	Affiliation    string
	Badge          string // from the officer's profile (outer/officers), if there is one
	Until          *time.Time
}

// packagePlay shows the player for one of the officer's packages; the
// page's script asks for the license and plays (static/player.js).
func (p *Portal) packagePlay(c echo.Context) error {
	u := accountui.Session(c).User
	pkg, err := p.cfg.Store.ForRecipient(c.Request().Context(), u.Username, c.Param("id"), time.Now())
	if err != nil {
		return packageError(err)
	}
	page := playPage{ID: pkg.ID, ExportCode: pkg.ExportCode, Name: u.FullName, Username: u.Username, Affiliation: u.Affiliation, Until: pkg.ExpiresAt}
	switch prof, err := p.cfg.Officers.Profile(c.Request().Context(), u.Username); {
	case err == nil:
		page.Name, page.Badge, page.Affiliation = prof.FullName, prof.Badge, prof.Agency
	case !errors.Is(err, officers.ErrNoProfile):
		return err
	}
	if page.Name == "" {
		page.Name = u.Username
	}
	c.Response().Header().Set("Content-Security-Policy", playerCSP)
	return p.ui.Render(c, accountui.View{Name: "package_play", Title: "player.title", Data: page})
}

// packageError answers a refused package: 404 whether it exists or not,
// 410 once it is the officer's and gone.
func packageError(err error) error {
	switch {
	case errors.Is(err, pkgstore.ErrNotFound):
		return echo.NewHTTPError(http.StatusNotFound, "player.not_found")
	case errors.Is(err, pkgstore.ErrDestroyed):
		return echo.NewHTTPError(http.StatusGone, "player.gone")
	}
	return err
}
