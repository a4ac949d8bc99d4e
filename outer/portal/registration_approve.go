package portal

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"sealgate/outer/officers"
)

// registrationApprove makes the officer's account and profile from a
// pending request.
func (p *Portal) registrationApprove(c echo.Context) error {
	id, ok := registrationID(c)
	if !ok {
		return echo.ErrNotFound
	}
	username, err := p.cfg.Officers.Approve(c.Request().Context(), adminActor(c), id)
	switch {
	case errors.Is(err, officers.ErrNoRegistration):
		return p.showRegistrations(c, http.StatusNotFound, "", "regs.err.gone")
	case errors.Is(err, officers.ErrUsernameTaken):
		return p.showRegistrations(c, http.StatusConflict, "", "regs.err.taken")
	case errors.Is(err, officers.ErrDuplicate):
		return p.showRegistrations(c, http.StatusConflict, "", "regs.err.duplicate")
	case err != nil:
		return err
	}
	return p.showRegistrations(c, http.StatusOK, "regs.approved", "", username)
}
