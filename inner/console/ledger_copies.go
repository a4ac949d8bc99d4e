package console

import (
	"github.com/labstack/echo/v4"

	"sealgate/shared/accountui"
)

// ledgerCopies lists the newest marked copies: every watermark serial the
// appliance has issued, with its fate (the forensic side of the ledger,
// where a trace leads).
func (c *Console) ledgerCopies(e echo.Context) error {
	es, err := c.ledger.List(e.Request().Context(), copiesPageRows)
	if err != nil {
		return err
	}
	return c.ui.Render(e, accountui.View{Name: "ledger_copies", Title: "copies.title", Data: es})
}
