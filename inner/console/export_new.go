package console

import (
	"net/http"
	"strconv"
	"time"

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

type findForm struct {
	Cameras  []*export.Camera
	CameraID int64
	From, To string
	Zone     string
	Errors   map[string]string
}

// exportNew shows the request form for one ingested clip, or, without one,
// finds the recording of a camera that covers a period and shows the form
// cut to it.
func (c *Console) exportNew(e echo.Context) error {
	r := export.Request{ViewingDays: 7, Transcode: "keep"}
	if id, _ := strconv.ParseInt(e.QueryParam("footage"), 10, 64); id > 0 {
		r.FootageID = id
		return c.showExportForm(e, 0, r, nil)
	}
	find := findForm{From: e.QueryParam("from"), To: e.QueryParam("to")}
	find.CameraID, _ = strconv.ParseInt(e.QueryParam("camera"), 10, 64)
	status := http.StatusOK
	if e.QueryParams().Has("camera") {
		f, err := c.workflow.FootageAt(e.Request().Context(), find.CameraID, find.From, find.To)
		if err == nil {
			r.FootageID, r.From, r.To = f.ID, find.From, find.To
			return c.showExportForm(e, 0, r, nil)
		}
		var ok bool
		if find.Errors, ok = fieldErrors(e, err); !ok {
			return workflowError(err)
		}
		status = http.StatusUnprocessableEntity
	}
	return c.showFinder(e, status, find)
}

func (c *Console) showFinder(e echo.Context, status int, find findForm) error {
	cams, err := c.workflow.Cameras(e.Request().Context(), false)
	if err != nil {
		return err
	}
	find.Cameras, find.Zone = cams, time.Now().Format("MST -07:00")
	return c.ui.Render(e, accountui.View{Name: "export_find", Title: "exports.new", Status: status, Data: find})
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
