package console

import (
	"errors"
	"time"

	"github.com/labstack/echo/v4"

	"sealgate/inner/ledger"
	"sealgate/shared/accountui"
	"sealgate/shared/audit"
	"sealgate/shared/i18n"
)

var errPrintFull = errors.New("console: the printout is full")

// ledgerPrint is the ledger as an A4 printout: the filter's rows (up to
// printRows; past that the page says to download the file instead), the
// site's name and the print date at its head. Printing personal data is
// audited as a download is.
func (c *Console) ledgerPrint(e echo.Context) error {
	f, v, err := ledgerFilter(e)
	if err != nil {
		return err
	}
	ctx := e.Request().Context()
	var rows []*ledger.Record
	err = c.ledger.Each(ctx, f, func(r *ledger.Record) error {
		if len(rows) == printRows {
			v.Limited = true
			return errPrintFull
		}
		shownRecord(e, r)
		rows = append(rows, r)
		return nil
	})
	if err != nil && !errors.Is(err, errPrintFull) {
		return ledgerError(err)
	}
	if err := c.audit.Append(ctx, audit.Entry{Actor: accountui.Session(e).User.Username, Action: "ledger.print", Target: "ledger",
		Outcome: audit.OK, Detail: "filter " + v.Query}); err != nil {
		return err
	}
	v.Page, v.Count, v.Site, v.Printed, v.Filter = &ledger.Page{Records: rows}, len(rows), c.siteName(), time.Now(), f
	v.Described = v.describe(i18n.Pick(e.Request()), f)
	return c.ui.Render(e, accountui.View{Name: "ledger_print", Title: "ledger.print_title", Data: v})
}
