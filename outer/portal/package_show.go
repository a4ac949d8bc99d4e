package portal

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"sealgate/outer/pkgstore"
	"sealgate/shared/accountui"
)

// packageShow is one package's page for the officer it is addressed to:
// its facts, the download and the player. A package that is not theirs
// (or not yet in its window) is 404, as one that does not exist; one of
// theirs that is destroyed or expired is 410, saying when and why.
func (p *Portal) packageShow(c echo.Context) error {
	now := p.now()
	pk, err := p.cfg.Store.ForRecipient(c.Request().Context(), accountui.Session(c).User.Username, c.Param("id"), now)
	switch {
	case errors.Is(err, pkgstore.ErrNotFound):
		return echo.NewHTTPError(http.StatusNotFound, "packages.not_found")
	case errors.Is(err, pkgstore.ErrDestroyed):
		return p.gone(c, pk)
	case err != nil:
		return err
	}
	return p.ui.Render(c, accountui.View{Name: "package", Title: "package.title", Data: p.view(pk, now)})
}

// gone is the 410 page of a package of the officer's that is destroyed.
func (p *Portal) gone(c echo.Context, pk *pkgstore.Package) error {
	return p.ui.Render(c, accountui.View{Name: "package_gone", Title: "package.gone_title", Data: p.view(pk, p.now()), Status: http.StatusGone})
}
