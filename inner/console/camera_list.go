package console

import (
	"github.com/labstack/echo/v4"

	"sealgate/inner/export"
	"sealgate/shared/accountui"
)

type camerasView struct {
	Cameras []*export.Camera
	Kinds   []string
	CanEdit bool
	Form    export.Camera
	Errors  map[string]string // field → message
}

// cameraList shows the registry and, to those who keep it, the form.
func (c *Console) cameraList(e echo.Context) error {
	return c.showCameras(e, 0, camerasView{}, "", "")
}

func (c *Console) showCameras(e echo.Context, status int, v camerasView, notice, errMsg string) error {
	all, err := c.workflow.Cameras(e.Request().Context(), e.QueryParam("retired") != "")
	if err != nil {
		return err
	}
	v.Cameras, v.Kinds, v.CanEdit = all, export.CameraKinds, hasRole(e, CameraRoles)
	return c.ui.Render(e, accountui.View{Name: "cameras", Title: "camera.title", Data: v, Status: status, Notice: notice, Error: errMsg})
}
