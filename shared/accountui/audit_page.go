package accountui

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"sealgate/shared/audit"
	"sealgate/shared/i18n"
)

type auditData struct {
	Entries []audit.Entry
	Filter  url.Values
	Older   string // query of the next page, empty on the last
	CSV     string // query of the CSV export
	Chain   string // result of verifying the chain
	Broken  bool
}

// filter reads the page's query: actor, action (prefix), from and until
// (dates, KST, until inclusive), before (paging).
func filter(c echo.Context) audit.Filter {
	f := audit.Filter{Actor: c.QueryParam("actor"), Action: c.QueryParam("action"), Limit: 100}
	if t, err := time.ParseInLocation("2006-01-02", c.QueryParam("from"), i18n.Zone); err == nil {
		f.From = t
	}
	if t, err := time.ParseInLocation("2006-01-02", c.QueryParam("until"), i18n.Zone); err == nil {
		f.Until = t.AddDate(0, 0, 1)
	}
	f.Before, _ = strconv.ParseInt(c.QueryParam("before"), 10, 64)
	return f
}

func (ui *UI) auditPage(c echo.Context) error {
	ctx := c.Request().Context()
	f := filter(c)
	entries, err := ui.audit.Query(ctx, f)
	if err != nil {
		return err
	}
	q := c.QueryParams()
	d := auditData{Entries: entries, Filter: q}
	if len(entries) == f.Limit {
		next := url.Values{}
		for k, v := range q {
			next[k] = v
		}
		next.Set("before", strconv.FormatInt(entries[len(entries)-1].Seq, 10))
		d.Older = next.Encode()
	}
	csvQ := url.Values{}
	for k, v := range q {
		if k != "before" {
			csvQ[k] = v
		}
	}
	d.CSV = csvQ.Encode()
	n, err := ui.audit.Verify(ctx)
	if err != nil {
		d.Chain, d.Broken = ui.t(c, "audit.chain_broken", err.Error()), true
	} else {
		d.Chain = ui.t(c, "audit.chain_ok", n)
	}
	return ui.Render(c, View{Name: "audit", Title: "audit.title", Data: d})
}

func (ui *UI) auditCSV(c echo.Context) error {
	f := filter(c)
	f.Before = 0
	ui.audit.Append(c.Request().Context(), audit.Entry{Actor: actor(c).Name, Action: "audit.export", Remote: c.RealIP(), Detail: c.QueryString()})
	c.Response().Header().Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	c.Response().Header().Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="audit-%s.csv"`, time.Now().In(i18n.Zone).Format("20060102-150405")))
	c.Response().WriteHeader(http.StatusOK)
	c.Response().Write([]byte("\ufeff")) // BOM: spreadsheet programs then read Korean text as UTF-8
	return ui.audit.WriteCSV(c.Request().Context(), c.Response(), f)
}
