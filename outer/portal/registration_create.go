package portal

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"sealgate/outer/officers"
	"sealgate/shared/accountui"
)

// registrationCreate creates an officer's account and profile for an
// admin, and shows the generated first password once.
func (p *Portal) registrationCreate(c echo.Context) error {
	f := registrationFormValues(c)
	username, password, err := p.cfg.Officers.Create(c.Request().Context(), adminActor(c), f)
	var es officers.FieldErrors
	if errors.As(err, &es) {
		return p.renderRegistrationForm(c, true, f, err, http.StatusBadRequest)
	}
	if err != nil {
		return err
	}
	return p.ui.Render(c, accountui.View{Name: "registration_created", Title: "regs.new",
		Data: struct{ Username, Password string }{username, password}})
}
