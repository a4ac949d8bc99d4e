package portal

import (
	"github.com/labstack/echo/v4"

	"sealgate/outer/officers"
)

// registrationNew shows the admin's form that creates an officer directly.
func (p *Portal) registrationNew(c echo.Context) error {
	return p.renderRegistrationForm(c, true, officers.Form{}, nil, 0)
}
