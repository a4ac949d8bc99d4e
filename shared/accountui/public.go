package accountui

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// HandlePublic adds a page anyone may use, signed in or not (an officer's
// self-registration). CSRF applies as everywhere. A request that changes
// something draws on the per-address budget of the sign-in steps, so an
// unauthenticated client cannot make the daemon hash passwords or write
// rows faster than it could guess sign-ins.
func (ui *UI) HandlePublic(method, path string, h echo.HandlerFunc) {
	if method != http.MethodGet && method != http.MethodHead {
		h = ui.limits.wrapAddress(h)
	}
	ui.public(method, path, h)
}

// wrapAddress runs h only if the client's address has a step left; else 429.
func (l *signInLimits) wrapAddress(h echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !l.byAddr.allow(c.RealIP()) {
			return l.deny(c, "address")
		}
		return h(c)
	}
}
