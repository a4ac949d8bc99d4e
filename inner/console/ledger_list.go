package console

import (
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"sealgate/inner/export"
	"sealgate/inner/ledger"
	"sealgate/shared/accountui"
	"sealgate/shared/i18n"
)

// ledgerCountUpTo is as far as the ledger page counts the rows that
// match: a count of the whole of a large ledger would cost more than the
// page (docs/ledger.md, "Search at scale").
const ledgerCountUpTo = 10_000

// ledgerStates are the states a ledger row can be filtered by, as the
// console shows them.
var ledgerStates = []string{"requested", "approved", "transcoding", "rendering", "checking", "reviewing", "sealing", "queued",
	"transferring", "delivered", "refused", "ready", "rejected", "cancelled", "failed"}

type ledgerView struct {
	Filter   ledger.Filter
	From, To string // as typed: YYYY-MM-DD
	Query    string // the filter as a query string
	// Links with the filter: the files, the printout, the next page.
	XLSX, CSV, Print, Next, First template.URL
	// Described is the filter in words, for a printout's head.
	Described string
	Page      *ledger.Page
	Count     int
	More      bool // more than Count match: the page counts no further
	Agencies  []string
	Reasons   []string
	States    []string
	Sorts     []string
	Site      string
	Printed   time.Time
	Limited   bool // the printout stopped at printRows
}

// ledgerFilter reads the ledger's filter from the query string
// (docs/ledger.md): from and to are days in KST, to included.
func ledgerFilter(e echo.Context) (ledger.Filter, *ledgerView, error) {
	q := e.QueryParams()
	v := &ledgerView{From: q.Get("from"), To: q.Get("to")}
	f := ledger.Filter{Agency: q.Get("agency"), Camera: q.Get("camera"), State: q.Get("state"), Reason: q.Get("reason"),
		Requester: q.Get("requester"), DocumentOnly: !seesNames(e), Sort: q.Get("sort")}
	var err error
	if v.From != "" {
		if f.From, err = time.ParseInLocation(time.DateOnly, v.From, i18n.Zone); err != nil {
			return f, nil, echo.NewHTTPError(http.StatusBadRequest, "from: a date as YYYY-MM-DD")
		}
	}
	if v.To != "" {
		to, err := time.ParseInLocation(time.DateOnly, v.To, i18n.Zone)
		if err != nil {
			return f, nil, echo.NewHTTPError(http.StatusBadRequest, "to: a date as YYYY-MM-DD")
		}
		f.To = to.AddDate(0, 0, 1)
	}
	keep := url.Values{}
	for _, k := range []string{"from", "to", "agency", "camera", "state", "reason", "requester", "sort"} {
		if s := q.Get(k); s != "" {
			keep.Set(k, s)
		}
	}
	v.Query = keep.Encode()
	v.XLSX, v.CSV, v.Print = link("/ledger.xlsx", v.Query), link("/ledger.csv", v.Query), link("/ledger/print", v.Query)
	v.First = link("/ledger", v.Query)
	return f, v, nil
}

// describe says what the filter keeps, in lang.
func (v *ledgerView) describe(lang string, f ledger.Filter) string {
	var parts []string
	add := func(key, value string) {
		if value != "" {
			parts = append(parts, i18n.T(lang, key)+" "+value)
		}
	}
	add("ledger.from", v.From)
	add("ledger.to", v.To)
	add("ledger.agency", f.Agency)
	add("ledger.camera", f.Camera)
	add("ledger.requester", f.Requester)
	if f.Reason != "" {
		add("ledger.reason", i18n.T(lang, "reason."+f.Reason))
	}
	if f.State != "" {
		add("ledger.state", i18n.T(lang, "exports.state."+f.State))
	}
	return strings.Join(parts, ", ")
}

// link is path with an encoded query string, safe as an href.
func link(path, query string) template.URL {
	if query == "" {
		return template.URL(path)
	}
	return template.URL(path + "?" + query)
}

// ledgerError is how the ledger pages answer a filter it refuses.
func ledgerError(err error) error {
	if errors.Is(err, ledger.ErrFilter) {
		return echo.NewHTTPError(http.StatusBadRequest, err.Error())
	}
	return err
}

// ledgerList is the export ledger (반출관리대장): one row per export,
// filtered, a page at a time.
func (c *Console) ledgerList(e echo.Context) error {
	f, v, err := ledgerFilter(e)
	if err != nil {
		return err
	}
	ctx := e.Request().Context()
	if v.Page, err = c.ledger.Search(ctx, f, e.QueryParam("after"), ledgerPageRows); err != nil {
		return ledgerError(err)
	}
	for _, r := range v.Page.Records {
		shownRecord(e, r)
	}
	if v.Count, v.More, err = c.ledger.Count(ctx, f, ledgerCountUpTo); err != nil {
		return err
	}
	if v.Agencies, err = c.ledger.Agencies(ctx, 500); err != nil {
		return err
	}
	if v.Page.Next != "" {
		next, _ := url.ParseQuery(v.Query)
		next.Set("after", v.Page.Next)
		v.Next = link("/ledger", next.Encode())
	}
	v.Filter, v.Reasons, v.States, v.Sorts = f, export.ReasonCodes, ledgerStates, ledger.Sorts
	return c.ui.Render(e, accountui.View{Name: "ledger", Title: "ledger.title", Data: v})
}

// siteName heads the printouts: the configured name, else the appliance.
func (c *Console) siteName() string {
	if c.site != "" {
		return c.site
	}
	return fmt.Sprintf("Sealgate %d", c.ledger.Appliance())
}
