package console

import (
	_ "embed"
	"net/http"

	"github.com/labstack/echo/v4"
)

//go:embed static/stats.css
var statsCSS []byte

// statsRoutes are the export statistics and the monthly report
// (docs/ledger.md, "Statistics" and "Monthly report"): the ledger's
// readers may see them.
func (c *Console) statsRoutes() {
	ui := c.ui
	ui.Handle(http.MethodGet, "/statistics", TraceRoles, c.statsShow)
	ui.Handle(http.MethodGet, "/statistics/monthly", TraceRoles, c.statsMonthly)
	ui.Handle(http.MethodGet, "/statistics.css", TraceRoles, statsStyle)
}

// statsStyle is the charts' and the printed report's style sheet: the
// console's policy allows no inline style.
func statsStyle(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "no-cache")
	return c.Blob(http.StatusOK, "text/css; charset=utf-8", statsCSS)
}
