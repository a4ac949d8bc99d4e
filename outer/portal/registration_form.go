package portal

import (
	"github.com/labstack/echo/v4"

	"sealgate/outer/officers"
)

// registrationForm shows the public registration form.
func (p *Portal) registrationForm(c echo.Context) error {
	return p.renderRegistrationForm(c, false, officers.Form{}, nil, 0)
}
