package console

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"sealgate/inner/export"
	"sealgate/shared/i18n"
)

// cameraCreate registers a camera from the form; wrong fields are shown
// beside the form, in the user's language.
func (c *Console) cameraCreate(e echo.Context) error {
	cam := export.Camera{Name: e.FormValue("name"), Location: e.FormValue("location"), VMSID: e.FormValue("vms_id"), Kind: e.FormValue("kind")}
	var bad export.FieldErrors
	if lat, long := strings.TrimSpace(e.FormValue("latitude")), strings.TrimSpace(e.FormValue("longitude")); lat != "" || long != "" {
		la, err1 := strconv.ParseFloat(lat, 64)
		lo, err2 := strconv.ParseFloat(long, 64)
		if err1 != nil || err2 != nil {
			bad = append(bad, &export.FieldError{Field: "latlong", Problem: "latlong"})
		} else {
			cam.Latitude, cam.Longitude = &la, &lo
		}
	}
	var err error
	if len(bad) > 0 {
		err = bad
	} else {
		_, err = c.workflow.AddCamera(e.Request().Context(), actor(e), cam)
	}
	if v, ok := fieldErrors(e, err); ok {
		return c.showCameras(e, http.StatusUnprocessableEntity, camerasView{Form: cam, Errors: v}, "", "")
	}
	if err != nil {
		return workflowError(err)
	}
	return e.Redirect(http.StatusSeeOther, "/cameras")
}

// fieldErrors renders a form's field errors in the request's language.
func fieldErrors(e echo.Context, err error) (map[string]string, bool) {
	var fes export.FieldErrors
	if !errors.As(err, &fes) {
		return nil, false
	}
	lang := i18n.Pick(e.Request())
	out := map[string]string{}
	for _, fe := range fes {
		out[fe.Field] = fe.Message(lang)
	}
	return out, true
}
