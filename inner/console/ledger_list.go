package console

import (
	"github.com/labstack/echo/v4"

	"sealgate/shared/accountui"
)

// ledgerList shows the newest rows of the export ledger.
func (c *Console) ledgerList(e echo.Context) error {
	es, err := c.ledger.List(e.Request().Context(), ledgerPageRows)
	if err != nil {
		return err
	}
	return c.ui.Render(e, accountui.View{Name: "ledger", Title: "ledger.title", Data: es})
}
