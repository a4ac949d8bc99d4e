package console

import (
	"github.com/labstack/echo/v4"

	"sealgate/inner/export"
	"sealgate/shared/accountui"
)

type exportsView struct {
	Exports []*export.Export
	State   string
}

// exportList shows exports newest first, their stages updating live.
func (c *Console) exportList(e echo.Context) error {
	state := e.QueryParam("state")
	es, err := c.workflow.List(e.Request().Context(), state, exportPageRows)
	if err != nil {
		return err
	}
	for _, x := range es {
		shownExport(e, x)
	}
	return c.ui.Render(e, accountui.View{Name: "exports", Title: "exports.title", Data: exportsView{Exports: es, State: state}})
}
