package portal

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"sealgate/outer/expiry"
	"sealgate/outer/pkgstore"
	"sealgate/shared/accountui"
	"sealgate/shared/i18n"
)

// adminPackageRevoke destroys a package now, for the admin, with the
// reason the form gives (outer/expiry.Revoke: the file removed and the
// destruction audited in one transaction).
func (p *Portal) adminPackageRevoke(c echo.Context) error {
	lang := i18n.Pick(c.Request())
	pk, err := p.cfg.Expiry.Revoke(c.Request().Context(), accountui.Session(c).User.Username, c.Param("id"), c.FormValue("reason"))
	switch {
	case errors.Is(err, expiry.ErrReason):
		return p.renderAdminPackages(c, "", i18n.T(lang, "admin_packages.need_reason"), http.StatusBadRequest)
	case errors.Is(err, pkgstore.ErrNotFound):
		return echo.NewHTTPError(http.StatusNotFound, "packages.not_found")
	case errors.Is(err, pkgstore.ErrDestroyed):
		return p.renderAdminPackages(c, "", i18n.T(lang, "admin_packages.already"), http.StatusConflict)
	case err != nil:
		return err
	}
	return p.renderAdminPackages(c, i18n.T(lang, "admin_packages.revoked", pk.ExportCode, pk.Recipient), "", 0)
}
