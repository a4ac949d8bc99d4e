package console

import (
	"strconv"

	"github.com/labstack/echo/v4"

	"sealgate/inner/pipeline"
	"sealgate/shared/accountui"
)

type handoverView struct {
	pipeline.Slip
	ID          int64
	WindowHours int
}

// exportHandover hands an offline export over: the export is delivered on
// record, and this page, shown once, holds the password, the slip to print
// and the package's one download.
func (c *Console) exportHandover(e echo.Context) error {
	id, err := strconv.ParseInt(e.Param("id"), 10, 64)
	if err != nil {
		return echo.ErrNotFound
	}
	x, password, err := pipeline.HandOver(e.Request().Context(), c.workflow, c.workDir, actor(e), id, nil)
	if err != nil {
		return workflowError(err)
	}
	// The password is in this page and nowhere else now: no cache keeps it.
	e.Response().Header().Set("Cache-Control", "no-store")
	v := handoverView{Slip: pipeline.NewSlip(x, pipeline.PackageFile(x), c.signer, password), ID: id,
		WindowHours: int(pipeline.HandOverWindow.Hours())}
	return c.ui.Render(e, accountui.View{Name: "handover", Title: "handover.title", Data: v})
}
