package accountui

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"sealgate/shared/account"
)

type usersData struct {
	Users  []*account.User
	Roles  []string
	Search string
	Now    time.Time
}

func (ui *UI) users(c echo.Context) error { return ui.showUsers(c, http.StatusOK, "", "") }

func (ui *UI) showUsers(c echo.Context, status int, notice, errMsg string) error {
	search := c.QueryParam("q")
	us, err := ui.svc.Users(c.Request().Context(), search)
	if err != nil {
		return err
	}
	return ui.Render(c, View{Name: "users", Title: "users.title", Data: usersData{Users: us, Roles: ui.svc.Roles(), Search: search, Now: time.Now()}, Notice: notice, Error: errMsg, Status: status})
}

// userError turns a refusal into a message for the admin, or nil for a fault.
func (ui *UI) userError(c echo.Context, err error) (string, bool) {
	var pe *account.PolicyError
	switch {
	case errors.As(err, &pe):
		return ui.t(c, pe.Reason), true
	case errors.Is(err, account.ErrUserExists), errors.Is(err, account.ErrBadUsername), errors.Is(err, account.ErrBadRole),
		errors.Is(err, account.ErrLastAdmin), errors.Is(err, account.ErrNoUser):
		return err.Error(), true
	}
	return "", false
}

type passwordOnce struct{ Username, Password string }

func (ui *UI) createUser(c echo.Context) error {
	u, pw, err := ui.svc.CreateUser(c.Request().Context(), actor(c), account.NewUser{
		Username: c.FormValue("username"), Role: c.FormValue("role"),
		FullName: c.FormValue("full_name"), Phone: c.FormValue("phone"), Affiliation: c.FormValue("affiliation"),
	})
	if msg, ok := ui.userError(c, err); ok {
		return ui.showUsers(c, http.StatusBadRequest, "", msg)
	} else if err != nil {
		return err
	}
	return ui.Render(c, View{Name: "password_once", Title: "users.title", Data: passwordOnce{u.Username, pw}})
}

var ops = map[string]string{"disable": account.OpDisable, "enable": account.OpEnable, "unlock": account.OpUnlock, "reset": account.OpReset}

func (ui *UI) administer(c echo.Context) error {
	op, ok := ops[c.Param("op")]
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if !ok || err != nil {
		return echo.NewHTTPError(http.StatusNotFound)
	}
	pw, err := ui.svc.Administer(c.Request().Context(), actor(c), id, op)
	if msg, ok := ui.userError(c, err); ok {
		return ui.showUsers(c, http.StatusBadRequest, "", msg)
	} else if err != nil {
		return err
	}
	if op == account.OpReset {
		u, err := ui.svc.User(c.Request().Context(), id)
		if err != nil {
			return err
		}
		return ui.Render(c, View{Name: "password_once", Title: "users.title", Data: passwordOnce{u.Username, pw}})
	}
	return c.Redirect(http.StatusSeeOther, "/users")
}

func (ui *UI) setRole(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return echo.NewHTTPError(http.StatusNotFound)
	}
	err = ui.svc.SetRole(c.Request().Context(), actor(c), id, c.FormValue("role"))
	if msg, ok := ui.userError(c, err); ok {
		return ui.showUsers(c, http.StatusBadRequest, "", msg)
	} else if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/users")
}
