package portal

import (
	"github.com/labstack/echo/v4"

	"sealgate/shared/accountui"
)

// adminPackageList is every package the outer holds, for its admins: state,
// recipient, window, size and the inner appliance it came from, with a
// revoke form on each one still held.
func (p *Portal) adminPackageList(c echo.Context) error {
	return p.renderAdminPackages(c, "", "", 0)
}

func (p *Portal) renderAdminPackages(c echo.Context, notice, problem string, status int) error {
	ps, err := p.cfg.Store.List(c.Request().Context())
	if err != nil {
		return err
	}
	now := p.now()
	views := make([]packageView, 0, len(ps))
	for i := range ps {
		views = append(views, p.view(&ps[i], now))
	}
	return p.ui.Render(c, accountui.View{Name: "admin_packages", Title: "admin_packages.title", Data: views, Notice: notice, Error: problem, Status: status})
}
