package console

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"sealgate/inner/export"
)

// exportCreate files the request; each wrong field is shown on the form.
func (c *Console) exportCreate(e echo.Context) error {
	footage, _ := strconv.ParseInt(e.FormValue("footage"), 10, 64)
	days, _ := strconv.Atoi(e.FormValue("viewing_days"))
	r := export.Request{FootageID: footage, ReasonCode: e.FormValue("reason"), Detail: e.FormValue("detail"),
		RequesterName: e.FormValue("requester_name"), Agency: e.FormValue("agency"), Phone: e.FormValue("phone"),
		DocumentNo: e.FormValue("document_no"), Recipient: e.FormValue("recipient"), ViewingDays: days,
		From: e.FormValue("from"), To: e.FormValue("to"), Transcode: e.FormValue("transcode"),
		NoMask: e.FormValue("no_mask") != "", Justification: e.FormValue("justification"), Offline: e.FormValue("delivery") == "offline",
		Password: e.FormValue("password")}
	id, err := c.workflow.File(e.Request().Context(), actor(e), r)
	if errs, ok := fieldErrors(e, err); ok {
		r.Password = "" // never sent back
		return c.showExportForm(e, http.StatusUnprocessableEntity, r, errs)
	}
	if err != nil {
		return workflowError(err)
	}
	return e.Redirect(http.StatusSeeOther, fmt.Sprintf("/exports/%d", id))
}
