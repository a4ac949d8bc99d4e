package console

import (
	"github.com/labstack/echo/v4"

	"sealgate/inner/export"
	"sealgate/inner/ledger"
	"sealgate/inner/requester"
	"sealgate/shared/accountui"
)

// The requester's name and phone are personal data: every page, printout
// and file shows them as requester.Shown allows the signed-in role
// (docs/ledger.md, "Personal data").

func role(e echo.Context) string { return accountui.Session(e).User.Role }

// shownRecord leaves of r's requester what the reader may see.
func shownRecord(e echo.Context, r *ledger.Record) {
	r.RequesterName, r.Phone = requester.Shown(role(e), r.RequesterName, r.Phone)
}

// shownExport leaves of x's requester what the reader may see.
func shownExport(e echo.Context, x *export.Export) {
	x.RequesterName, x.Phone = requester.Shown(role(e), x.RequesterName, x.Phone)
}

// seesNames is whether the reader may search by a requester's name: one
// who sees it masked would learn it from a match.
func seesNames(e echo.Context) bool {
	n, _ := requester.Shown(role(e), "n", "")
	return n == "n"
}
