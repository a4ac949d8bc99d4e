package portal

import (
	"net/http"

	"sealgate/shared/accountui"
)

// Who may use what: officers see and open only the packages addressed to
// them (outer/pkgstore.Store.ForRecipient); outer admins keep the accounts,
// the registrations and the store (docs/architecture.md, "Roles").
var (
	OfficerRoles = []string{"officer"}
	AdminRoles   = []string{"admin"}
)

// Nav is the portal's own links in the header.
var Nav = []accountui.NavItem{
	{Path: "/packages", Key: "nav.packages", Roles: OfficerRoles},
	{Path: "/admin/packages", Key: "nav.admin_packages", Roles: AdminRoles},
	{Path: "/admin/peers", Key: "nav.peers", Roles: AdminRoles},
	{Path: "/admin/storage", Key: "nav.storage", Roles: AdminRoles},
	{Path: "/registrations", Key: "nav.registrations", Roles: AdminRoles},
}

// Homes are where a role lands after signing in: an officer on the
// catalog.
var Homes = map[string]string{"officer": "/packages"}

// routes is the portal's access table. accountui enforces sign-in, the
// role and CSRF on each.
func (p *Portal) routes() {
	ui := p.ui
	ui.Handle(http.MethodGet, "/packages", OfficerRoles, p.packageList)
	ui.Handle(http.MethodGet, "/packages/:id", OfficerRoles, p.packageShow)
	ui.Handle(http.MethodGet, "/packages/:id/package", OfficerRoles, p.packageDownload)

	ui.Handle(http.MethodGet, "/admin/packages", AdminRoles, p.adminPackageList)
	ui.Handle(http.MethodPost, "/admin/packages/:id/revoke", AdminRoles, p.adminPackageRevoke)
	ui.Handle(http.MethodGet, "/admin/peers", AdminRoles, p.adminPeerList)
	ui.Handle(http.MethodGet, "/admin/storage", AdminRoles, p.adminStorageShow)

	p.playerRoutes()
	p.registrationRoutes()
}
