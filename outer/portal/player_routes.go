package portal

import (
	"embed"
	"net/http"

	"github.com/labstack/echo/v4"
)

//go:embed static/player.js static/player.css
var playerFiles embed.FS

// playerRoutes are the browser player's and the license endpoint's: each
// checks the package is the signed-in officer's (pkgstore.ForRecipient:
// 404 for anything else, 410 once gone); the license is the audited play
// (docs/portal.md, "Player and license").
func (p *Portal) playerRoutes() {
	ui := p.ui
	ui.Handle(http.MethodGet, "/packages/:id/play", OfficerRoles, p.packagePlay)
	ui.Handle(http.MethodPost, "/packages/:id/license", OfficerRoles, p.packageLicense)
	ui.Handle(http.MethodGet, "/packages/:id/media", OfficerRoles, p.packageMedia)
	ui.Handle(http.MethodGet, "/player.js", OfficerRoles, playerAsset("static/player.js", "text/javascript; charset=utf-8"))
	ui.Handle(http.MethodGet, "/player.css", OfficerRoles, playerAsset("static/player.css", "text/css; charset=utf-8"))
}

func playerAsset(name, contentType string) echo.HandlerFunc {
	b, err := playerFiles.ReadFile(name)
	if err != nil {
		panic(err) // embedded above
	}
	return func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "no-cache")
		return c.Blob(http.StatusOK, contentType, b)
	}
}
