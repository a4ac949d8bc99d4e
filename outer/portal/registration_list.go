package portal

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"sealgate/outer/officers"
	"sealgate/shared/accountui"
	"sealgate/shared/i18n"
)

// decisionsShown is how many recent decisions the review page lists.
const decisionsShown = 50

type registrationsView struct {
	Pending []*officers.Registration
	Decided []*officers.Decision
}

// registrationList shows the pending requests (after purging the expired)
// and the recent decisions.
func (p *Portal) registrationList(c echo.Context) error {
	return p.showRegistrations(c, http.StatusOK, "", "")
}

// showRegistrations renders the review page with a notice or an error
// (message keys; args for the notice).
func (p *Portal) showRegistrations(c echo.Context, status int, notice, errKey string, args ...any) error {
	ctx := c.Request().Context()
	pending, err := p.cfg.Officers.Pending(ctx)
	if err != nil {
		return err
	}
	decided, err := p.cfg.Officers.Decided(ctx, decisionsShown)
	if err != nil {
		return err
	}
	lang := i18n.Pick(c.Request())
	v := accountui.View{Name: "registration_list", Title: "regs.title", Data: registrationsView{Pending: pending, Decided: decided}, Status: status}
	if notice != "" {
		v.Notice = i18n.T(lang, notice, args...)
	}
	if errKey != "" {
		v.Error = i18n.T(lang, errKey)
	}
	return p.ui.Render(c, v)
}
