package portal

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"sealgate/outer/officers"
	"sealgate/shared/account"
	"sealgate/shared/accountui"
	"sealgate/shared/i18n"
)

// SignUp is the registration form, linked from the sign-in page.
const SignUp = "/register"

// registrationRoutes are officer self-registration's and its review's. The
// form is public (its posts draw on the sign-in steps' per-address budget);
// the review and the direct creation of an officer are the admins'
// (docs/portal.md, "Officer accounts").
func (p *Portal) registrationRoutes() {
	p.ui.HandlePublic(http.MethodGet, SignUp, p.registrationForm)
	p.ui.HandlePublic(http.MethodPost, SignUp, p.registrationSubmit)
	p.ui.Handle(http.MethodGet, "/registrations", AdminRoles, p.registrationList)
	p.ui.Handle(http.MethodPost, "/registrations/:id/approve", AdminRoles, p.registrationApprove)
	p.ui.Handle(http.MethodPost, "/registrations/:id/refuse", AdminRoles, p.registrationRefuse)
	p.ui.Handle(http.MethodGet, "/registrations/new", AdminRoles, p.registrationNew)
	p.ui.Handle(http.MethodPost, "/registrations/new", AdminRoles, p.registrationCreate)
}

// registrationFormValues is the form as posted.
func registrationFormValues(c echo.Context) officers.Form {
	return officers.Form{
		Person: officers.Person{FullName: c.FormValue("full_name"), Agency: c.FormValue("agency"), Badge: c.FormValue("badge"),
			Phone: c.FormValue("phone"), Email: c.FormValue("email")},
		Username: c.FormValue("username"), Password: c.FormValue("password"), Confirm: c.FormValue("confirm"),
	}
}

// registrationView is what the registration forms show: the values given
// (never the passwords) and what is wrong with them.
type registrationView struct {
	Form    officers.Form
	Errors  []string
	Domains []string
	Admin   bool // an admin creating an officer directly: no password asked
}

// renderRegistrationForm shows the visitor's form, or the admin's that
// creates an officer directly.
func (p *Portal) renderRegistrationForm(c echo.Context, admin bool, f officers.Form, err error, status int) error {
	f.Password, f.Confirm = "", ""
	v := registrationView{Form: f, Domains: p.cfg.Officers.Domains(), Admin: admin}
	title := "reg.title"
	if admin {
		title = "regs.new"
	}
	lang := i18n.Pick(c.Request())
	var es officers.FieldErrors
	if errors.As(err, &es) {
		for _, e := range es {
			v.Errors = append(v.Errors, e.Message(lang))
		}
	}
	return p.ui.Render(c, accountui.View{Name: "registration_form", Title: title, Data: v, Status: status})
}

// adminActor is the signed-in admin, for the audit log.
func adminActor(c echo.Context) account.Actor {
	return account.Actor{Name: accountui.Session(c).User.Username, Remote: c.RealIP()}
}

// registrationID is the :id of the route; a malformed one is no request.
func registrationID(c echo.Context) (int64, bool) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	return id, err == nil && id > 0
}
