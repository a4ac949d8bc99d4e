package accountui

import (
	"errors"
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"sealgate/shared/account"
	"sealgate/shared/audit"
	"sealgate/shared/web"
)

const sessionKey = "session"

// loadSession attaches the session named by the cookie, if it is valid.
func (ui *UI) loadSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if ck, err := c.Cookie(SessionCookie); err == nil {
			sess, err := ui.svc.Session(c.Request().Context(), ck.Value)
			switch {
			case err == nil:
				c.Set(sessionKey, sess)
			case errors.Is(err, account.ErrNoSession):
				clearCookie(c, SessionCookie)
			default:
				return err
			}
		}
		return next(c)
	}
}

// limitBody caps the request body: DefaultBodyLimit, or an upload route's
// limit for a fully signed-in user with one of the route's roles.
func (ui *UI) limitBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		limit := int64(DefaultBodyLimit)
		if u, ok := ui.uploads[c.Request().Method+" "+c.Path()]; ok {
			if s := Session(c); s != nil && s.Stage == account.StageOK && slices.Contains(u.roles, s.User.Role) {
				limit = u.limit
			}
		}
		if c.Request().ContentLength > limit {
			return echo.NewHTTPError(http.StatusRequestEntityTooLarge, "error.too_large")
		}
		if limit > DefaultBodyLimit {
			n := c.Request().ContentLength
			if n < 0 {
				n = limit
			}
			web.AllowUpload(c.Response(), n)
		}
		c.Request().Body = http.MaxBytesReader(c.Response(), c.Request().Body, limit)
		return next(c)
	}
}

// Session returns the request's session, or nil.
func Session(c echo.Context) *account.Session {
	s, _ := c.Get(sessionKey).(*account.Session)
	return s
}

// guard enforces a route's access rule. A browser without a session is
// sent to sign in; one half-way through signing in is sent to its next
// step; a signed-in user without the role gets 403, which is audited.
func (ui *UI) guard(r Route, h echo.HandlerFunc) echo.HandlerFunc {
	if r.Public {
		return h
	}
	return func(c echo.Context) error {
		s := Session(c)
		if s == nil {
			if c.Request().Method == http.MethodGet {
				return c.Redirect(http.StatusSeeOther, "/login")
			}
			return echo.NewHTTPError(http.StatusUnauthorized, "sign in first")
		}
		if len(r.Stages) > 0 {
			if slices.Contains(r.Stages, s.Stage) {
				return h(c)
			}
			return ui.toStage(c, s)
		}
		if s.Stage != account.StageOK {
			return ui.toStage(c, s)
		}
		if len(r.Roles) > 0 && !slices.Contains(r.Roles, s.User.Role) {
			ui.audit.Append(c.Request().Context(), audit.Entry{Actor: s.User.Username, Action: "access", Target: r.Method + " " + c.Request().URL.Path,
				Outcome: audit.Denied, Remote: c.RealIP(), Detail: "role " + s.User.Role})
			return echo.NewHTTPError(http.StatusForbidden, "role "+s.User.Role+" may not use this")
		}
		return h(c)
	}
}

// stagePaths are where each sign-in stage continues.
var stagePaths = map[string]string{
	account.StagePassword: "/password", account.StageTOTPEnroll: "/totp/enroll", account.StageTOTP: "/totp", account.StageOK: "/",
}

func (ui *UI) toStage(c echo.Context, s *account.Session) error {
	if c.Request().Method != http.MethodGet {
		return echo.NewHTTPError(http.StatusForbidden, "finish signing in first")
	}
	return c.Redirect(http.StatusSeeOther, stagePaths[s.Stage])
}

func actor(c echo.Context) account.Actor {
	a := account.Actor{Name: "-", Remote: c.RealIP()}
	if s := Session(c); s != nil {
		a.Name = s.User.Username
	}
	return a
}

func setCookie(c echo.Context, name, value string) {
	c.SetCookie(&http.Cookie{Name: name, Value: value, Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode})
}

func clearCookie(c echo.Context, name string) {
	c.SetCookie(&http.Cookie{Name: name, Value: "", Path: "/", Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode, MaxAge: -1})
}
