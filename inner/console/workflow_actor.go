package console

import (
	"slices"

	"github.com/labstack/echo/v4"

	"sealgate/inner/export"
	"sealgate/shared/accountui"
)

// actor is the signed-in user, for the export workflow's rules.
func actor(e echo.Context) export.Actor {
	s := accountui.Session(e)
	return export.Actor{User: s.User.Username, Role: s.User.Role, Via: "console", Remote: e.RealIP()}
}

func hasRole(e echo.Context, roles []string) bool {
	s := accountui.Session(e)
	return s != nil && s.User != nil && slices.Contains(roles, s.User.Role)
}
