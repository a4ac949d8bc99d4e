package console

import (
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"sealgate/inner/export"
	"sealgate/shared/accountui"
)

type exportView struct {
	*export.Export
	CanDecide bool // an approver who did not file it, while it waits
	CanCancel bool
	CanRetry  bool
	// CanHandOver: an offline export ready for the officer, at the desk.
	CanHandOver bool
	// NeedsViewing: a viewing period past MaxViewingDays, not yet
	// approved by an admin; CanApproveViewing: this admin may.
	NeedsViewing, CanApproveViewing bool
	// Checking: the masked preview and the leak check's suspects are
	// shown; CanRelease: this approver may release it.
	Checking, CanRelease bool
	// Reviewing: sent back to the review editor; PlanSaved: its plan is
	// saved, so it may be rendered again.
	Reviewing, PlanSaved bool
}

// exportShow shows one export: the request, its decision, each stage live,
// its history.
func (c *Console) exportShow(e echo.Context) error {
	id, err := strconv.ParseInt(e.Param("id"), 10, 64)
	if err != nil {
		return echo.ErrNotFound
	}
	x, err := c.workflow.Show(e.Request().Context(), id)
	if err != nil {
		return workflowError(err)
	}
	shownExport(e, x)
	me := accountui.Session(e).User
	mine := strings.TrimPrefix(x.RequestedBy, "cli:") == me.Username
	needs := x.State == export.Requested && x.ViewingDays > export.MaxViewingDays && x.ViewingApprovedBy == ""
	checking := x.State == export.Checking && slices.Contains(DecideRoles, me.Role)
	v := exportView{Export: x,
		NeedsViewing: needs, CanApproveViewing: needs && me.Role == "admin" && !mine,
		Checking: checking, CanRelease: checking && me.Role == "approver" && !mine,
		CanDecide:   x.State == export.Requested && me.Role == "approver" && !mine,
		CanCancel:   slices.Contains([]string{export.Requested, export.Approved, export.Transcoding, export.Checking, export.Reviewing}, x.State) && (mine || me.Role == "approver"),
		CanRetry:    x.State == export.Failed && (me.Role == "operator" || me.Role == "approver"),
		CanHandOver: x.State == export.Ready && x.Delivery == "offline" && slices.Contains(DecideRoles, me.Role)}
	if x.State == export.Reviewing && slices.Contains(DecideRoles, me.Role) {
		v.Reviewing = true
		_, err := c.reviews.Plan(e.Request().Context(), x.ReviewID)
		v.PlanSaved = err == nil
	}
	return c.ui.Render(e, accountui.View{Name: "export", Title: "exports.one", Data: v})
}
