package console

import (
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"sealgate/inner/stats"
	"sealgate/shared/accountui"
	"sealgate/shared/i18n"
)

// statsShow shows the statistics of the exports requested in a period
// (?from=YYYY-MM-DD&to=YYYY-MM-DD, both days included; by default the last
// twelve months).
func (c *Console) statsShow(e echo.Context) error {
	lang := i18n.Pick(e.Request())
	v := statsView{From: e.QueryParam("from"), To: e.QueryParam("to")}
	p, err := stats.Days(v.From, v.To, time.Now())
	if errors.Is(err, stats.ErrPeriod) {
		return c.ui.Render(e, accountui.View{Name: "stats", Title: "stats.title", Data: v, Error: i18n.T(lang, "stats.bad_period"),
			Status: http.StatusBadRequest})
	}
	if v.Report, err = stats.Compute(e.Request().Context(), c.db, p); err != nil {
		return err
	}
	v.From, v.To, v.Charts = p.FirstDay(), p.LastDay(), charts(lang, v.Report)
	return c.ui.Render(e, accountui.View{Name: "stats", Title: "stats.title", Data: v})
}
