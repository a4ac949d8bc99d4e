package console

import (
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"

	"sealgate/inner/stats"
	"sealgate/shared/accountui"
	"sealgate/shared/i18n"
)

// statsMonthly is a month's printable report (?month=YYYY-MM; by default
// last month): the site, the print date, the totals, the charts and
// the exports requested that month, up to printRows; past that the
// report says so and links the month's ledger file, which has them all.
func (c *Console) statsMonthly(e echo.Context) error {
	lang := i18n.Pick(e.Request())
	now := time.Now()
	v := statsView{Month: e.QueryParam("month"), Site: c.siteName(), Printed: now.In(i18n.Zone).Format(stats.LocalLayout)}
	p, err := stats.Month(v.Month, now)
	if errors.Is(err, stats.ErrPeriod) {
		return c.ui.Render(e, accountui.View{Name: "stats_month", Title: "stats.monthly", Data: v, Error: i18n.T(lang, "stats.bad_month"),
			Status: http.StatusBadRequest})
	}
	ctx := e.Request().Context()
	if v.Report, err = stats.Compute(ctx, c.db, p); err != nil {
		return err
	}
	if v.Rows, v.RowsLimited, err = stats.List(ctx, c.db, p, printRows); err != nil {
		return err
	}
	v.Month, v.From, v.To, v.Charts = p.Key(), p.FirstDay(), p.LastDay(), charts(lang, v.Report)
	v.MonthLedger = link("/ledger.xlsx", url.Values{"from": {v.From}, "to": {v.To}}.Encode())
	return c.ui.Render(e, accountui.View{Name: "stats_month", Title: "stats.monthly", Data: v})
}
