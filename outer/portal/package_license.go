package portal

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"sealgate/outer/license"
	"sealgate/outer/pkgstore"
	"sealgate/shared/accountui"
	"sealgate/shared/i18n"
)

// licenseRequest is the page's: its ECDH P-256 public key, raw
// (uncompressed), base64.
type licenseRequest struct {
	PublicKey []byte `json:"public_key"`
}

// packageLicense releases the package's key wrapped to the page's public
// key (outer/license): the audited play. Refusals answer JSON with a
// message in the officer's language.
func (p *Portal) packageLicense(c echo.Context) error {
	s := accountui.Session(c)
	var req licenseRequest
	// A body that does not decode leaves the key empty: the service
	// refuses it as bad_key, audited, once the package is checked.
	_ = json.NewDecoder(io.LimitReader(c.Request().Body, 4<<10)).Decode(&req)
	lic, err := p.cfg.License.Release(c.Request().Context(), license.Request{Account: s.User.Username, PackageID: c.Param("id"),
		ClientKey: req.PublicKey, Remote: c.RealIP(), Session: s.IDHash})
	if err != nil {
		code, key := http.StatusInternalServerError, "player.failed"
		switch {
		case errors.Is(err, pkgstore.ErrNotFound):
			code, key = http.StatusNotFound, "player.not_found"
		case errors.Is(err, pkgstore.ErrDestroyed):
			code, key = http.StatusGone, "player.gone"
		case errors.Is(err, license.ErrPlayLimit):
			code, key = http.StatusForbidden, "player.play_limit"
		case errors.Is(err, license.ErrBadKey):
			code, key = http.StatusBadRequest, "player.bad_key"
		default:
			p.log.Error("license release failed", slog.String("package", c.Param("id")), slog.Any("error", err))
		}
		return c.JSON(code, map[string]string{"error": key, "message": i18n.T(i18n.Pick(c.Request()), key)})
	}
	return c.JSON(http.StatusOK, lic)
}
