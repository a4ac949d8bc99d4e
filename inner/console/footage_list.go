package console

import (
	"github.com/labstack/echo/v4"

	"sealgate/inner/export"
	"sealgate/shared/accountui"
)

type footageView struct {
	Footage   []*export.Footage
	Cameras   []*export.Camera
	ChunkMB   int64
	LimitGB   int64
	CanUpload bool
}

// footageList shows ingested footage and the upload form.
func (c *Console) footageList(e echo.Context) error {
	ctx := e.Request().Context()
	fs, err := c.workflow.FootageOf(ctx, 0)
	if err != nil {
		return err
	}
	cams, err := c.workflow.Cameras(ctx, false)
	if err != nil {
		return err
	}
	return c.ui.Render(e, accountui.View{Name: "footage", Title: "footage.title", Data: footageView{Footage: fs, Cameras: cams,
		ChunkMB: UploadChunk >> 20, LimitGB: FootageLimit >> 30, CanUpload: hasRole(e, FootageRoles)}})
}
