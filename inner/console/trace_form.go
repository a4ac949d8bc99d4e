package console

import (
	"github.com/labstack/echo/v4"

	"sealgate/shared/accountui"
)

type traceView struct {
	LimitMB int64
	Result  *traceShown
}

// traceForm is the upload form for a suspect copy.
func (c *Console) traceForm(e echo.Context) error {
	return c.ui.Render(e, accountui.View{Name: "trace", Title: "trace.title", Data: traceView{LimitMB: TraceUploadLimit >> 20}})
}
