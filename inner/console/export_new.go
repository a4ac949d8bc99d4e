package console

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"sealgate/inner/export"
	"sealgate/shared/accountui"
)

type exportForm struct {
	Footage     *export.Footage
	Camera      *export.Camera
	Req         export.Request
	Reasons     []string
	ViewingDays []int
	Errors      map[string]string
}

// exportNew shows the request form for one ingested clip.
func (c *Console) exportNew(e echo.Context) error {
	id, _ := strconv.ParseInt(e.QueryParam("footage"), 10, 64)
	return c.showExportForm(e, 0, export.Request{FootageID: id, ViewingDays: 7, Transcode: "keep"}, nil)
}

func (c *Console) showExportForm(e echo.Context, status int, r export.Request, errs map[string]string) error {
	ctx := e.Request().Context()
	f, err := c.workflow.OneFootage(ctx, r.FootageID)
	if err != nil {
		return workflowError(err)
	}
	cam, err := c.workflow.Camera(ctx, f.CameraID)
	if err != nil {
		return err
	}
	if status == 0 {
		status = http.StatusOK
	}
	return c.ui.Render(e, accountui.View{Name: "export_new", Title: "exports.new", Status: status, Data: exportForm{Footage: f, Camera: cam, Req: r,
		Reasons: export.ReasonCodes, ViewingDays: export.ViewingDays, Errors: errs}})
}
