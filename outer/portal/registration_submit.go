package portal

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"sealgate/outer/officers"
	"sealgate/shared/accountui"
)

// registrationSubmit takes a visitor's request. A wrong field is shown
// again with the reason; any well-formed request gets the same answer,
// stored or not, so the page reveals no badge, e-mail or user name.
func (p *Portal) registrationSubmit(c echo.Context) error {
	f := registrationFormValues(c)
	err := p.cfg.Officers.Register(c.Request().Context(), f, c.RealIP())
	var es officers.FieldErrors
	if errors.As(err, &es) {
		return p.renderRegistrationForm(c, false, f, err, http.StatusBadRequest)
	}
	if err != nil {
		return err
	}
	return p.ui.Render(c, accountui.View{Name: "registration_done", Title: "reg.done_title"})
}
