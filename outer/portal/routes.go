package portal

// Who may use what: officers see and open only the packages addressed to
// them (outer/pkgstore.Store.ForRecipient); outer admins keep the accounts,
// the registrations and the store (docs/architecture.md, "Roles").
var (
	OfficerRoles = []string{"officer"}
	AdminRoles   = []string{"admin"}
)

// routes is the portal's access table. accountui enforces sign-in, the
// role and CSRF on each.
func (p *Portal) routes() {
	p.playerRoutes()
	p.registrationRoutes()
}
