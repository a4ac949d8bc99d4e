package portal

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"sealgate/outer/officers"
)

// registrationRefuse refuses a pending request with a reason and erases
// its personal data.
func (p *Portal) registrationRefuse(c echo.Context) error {
	id, ok := registrationID(c)
	if !ok {
		return echo.ErrNotFound
	}
	err := p.cfg.Officers.Refuse(c.Request().Context(), adminActor(c), id, c.FormValue("reason"))
	switch {
	case errors.Is(err, officers.ErrNoReason):
		return p.showRegistrations(c, http.StatusBadRequest, "", "regs.err.reason")
	case errors.Is(err, officers.ErrNoRegistration):
		return p.showRegistrations(c, http.StatusNotFound, "", "regs.err.gone")
	case err != nil:
		return err
	}
	return p.showRegistrations(c, http.StatusOK, "regs.refused", "")
}
