package console

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"sealgate/shared/accountui"
)

// Who may use what. Reviewers prepare and check the masking of footage
// before export: the operators who mask, the approvers who check before
// release. Tracers look for the watermark in a suspect copy and read the
// export ledger: the security side of the control centre, not the people
// who export (docs/architecture.md, "Roles").
var (
	ReviewRoles = []string{"operator", "approver"}
	TraceRoles  = []string{"admin", "auditor"}
	// The export workflow (docs/architecture.md, "The export workflow"):
	// operators and admins keep the camera registry, operators bring
	// footage and file requests, approvers decide; everyone follows.
	CameraRoles  = []string{"operator", "admin"}
	FootageRoles = []string{"operator"}
	ViewRoles    = []string{"operator", "approver"} // who may watch an original, on record
	ExportRoles  = []string{"operator", "approver", "admin", "auditor"}
	RequestRoles = []string{"operator"}
	DecideRoles  = []string{"operator", "approver"} // approve/reject: approvers; cancel: the requester too; the workflow decides
)

// Nav is the console's own links in the header.
var Nav = []accountui.NavItem{
	{Path: "/exports", Key: "nav.exports", Roles: ExportRoles},
	{Path: "/footage", Key: "nav.footage", Roles: ViewRoles},
	{Path: "/cameras", Key: "nav.cameras", Roles: ExportRoles},
	{Path: "/reviews", Key: "nav.reviews", Roles: ReviewRoles},
	{Path: "/trace", Key: "nav.trace", Roles: TraceRoles},
	{Path: "/ledger", Key: "nav.ledger", Roles: TraceRoles},
}

// routes is the console's access table: every route, its roles and its
// handler. accountui enforces sign-in, the role and CSRF on each.
func (c *Console) routes() {
	ui := c.ui
	ui.Handle(http.MethodGet, "/reviews", ReviewRoles, c.reviewList)
	ui.HandleUpload(http.MethodPost, "/reviews", ReviewRoles, ReviewUploadLimit, c.reviewCreate)
	ui.Handle(http.MethodGet, "/reviews/:id", ReviewRoles, c.reviewShow)
	ui.Handle(http.MethodGet, "/reviews/:id/data", ReviewRoles, c.reviewData)
	ui.Handle(http.MethodGet, "/reviews/:id/boxes", ReviewRoles, c.reviewBoxes)
	ui.Handle(http.MethodGet, "/reviews/:id/frame", ReviewRoles, c.reviewFrame)
	ui.Handle(http.MethodPost, "/reviews/:id/tracks", ReviewRoles, c.trackCreate)
	ui.Handle(http.MethodPost, "/reviews/:id/tracks/:track", ReviewRoles, c.trackEdit)
	ui.Handle(http.MethodPost, "/reviews/:id/tracks/:track/box", ReviewRoles, c.trackBoxSet)
	ui.Handle(http.MethodPost, "/reviews/:id/save", ReviewRoles, c.planSave)
	ui.Handle(http.MethodPost, "/reviews/:id/delete", ReviewRoles, c.reviewDelete)
	ui.Handle(http.MethodGet, "/review.js", ReviewRoles, reviewScript)

	ui.Handle(http.MethodGet, "/cameras", ExportRoles, c.cameraList)
	ui.Handle(http.MethodPost, "/cameras", CameraRoles, c.cameraCreate)
	ui.Handle(http.MethodGet, "/cameras/name-free", CameraRoles, c.cameraName)
	ui.Handle(http.MethodPost, "/cameras/:id/retire", CameraRoles, c.cameraRetire)
	ui.Handle(http.MethodGet, "/footage", ViewRoles, c.footageList)
	ui.Handle(http.MethodPost, "/footage", FootageRoles, c.footageCreate)
	ui.Handle(http.MethodGet, "/footage/:id", ViewRoles, c.footageShow)
	ui.Handle(http.MethodPost, "/footage/:id/view", ViewRoles, c.footageView)
	ui.Handle(http.MethodGet, "/footage/:id/original", ViewRoles, c.footageOriginal)
	ui.Handle(http.MethodPost, "/uploads", FootageRoles, c.uploadCreate)
	ui.HandleUpload(http.MethodPut, "/uploads/:id", FootageRoles, UploadChunk+1<<20, c.uploadAppend)
	ui.Handle(http.MethodGet, "/uploads/:id", FootageRoles, c.uploadOffset)
	ui.Handle(http.MethodGet, "/exports", ExportRoles, c.exportList)
	ui.Handle(http.MethodGet, "/exports/new", RequestRoles, c.exportNew)
	ui.Handle(http.MethodPost, "/exports", RequestRoles, c.exportCreate)
	ui.Handle(http.MethodGet, "/exports/:id", ExportRoles, c.exportShow)
	ui.Handle(http.MethodGet, "/exports/:id/events", ExportRoles, c.exportEvents)
	ui.Handle(http.MethodPost, "/exports/:id/handover", DecideRoles, c.exportHandover)
	ui.Handle(http.MethodPost, "/exports/:id/viewing", []string{"admin"}, c.exportDecide)
	ui.Handle(http.MethodGet, "/exports/:id/package", DecideRoles, c.exportPackage)
	ui.Handle(http.MethodGet, "/exports/:id/preview", DecideRoles, c.exportPreview)
	ui.Handle(http.MethodPost, "/exports/:id/send-back", []string{"approver"}, c.exportSendBack)
	ui.Handle(http.MethodPost, "/exports/:id/rerender", DecideRoles, c.exportRerender)
	ui.Handle(http.MethodGet, "/exports/:id/suspects/:n", DecideRoles, c.exportSuspect)
	ui.Handle(http.MethodPost, "/exports/:id/:verb", DecideRoles, c.exportDecide)
	ui.Handle(http.MethodGet, "/workflow.js", ExportRoles, workflowScript)

	ui.Handle(http.MethodGet, "/trace", TraceRoles, c.traceForm)
	ui.HandleUpload(http.MethodPost, "/trace", TraceRoles, TraceUploadLimit, c.traceUpload)
	ui.Handle(http.MethodGet, "/ledger", TraceRoles, c.ledgerList)
	ui.Handle(http.MethodGet, "/ledger.xlsx", TraceRoles, c.ledgerXLSXFile)
	ui.Handle(http.MethodGet, "/ledger.csv", TraceRoles, c.ledgerCSVFile)
	ui.Handle(http.MethodGet, "/ledger/print", TraceRoles, c.ledgerPrint)
	ui.Handle(http.MethodGet, "/ledger/copies", TraceRoles, c.ledgerCopies)
	ui.Handle(http.MethodGet, "/ledger/:id", TraceRoles, c.ledgerShow)
	ui.Handle(http.MethodGet, "/print.js", TraceRoles, script(printJS))
	c.statsRoutes()
}

var (
	workflowScript = script(workflowJS)
	reviewScript   = script(reviewJS)
)

// script serves one of the console's embedded scripts.
func script(js []byte) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "no-cache")
		return c.Blob(http.StatusOK, "text/javascript; charset=utf-8", js)
	}
}
