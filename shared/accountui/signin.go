package accountui

import (
	"encoding/base64"
	"errors"
	"html/template"
	"net/http"

	"github.com/labstack/echo/v4"

	"sealgate/shared/account"
	"sealgate/shared/i18n"
)

func (ui *UI) t(c echo.Context, key string, args ...any) string {
	return i18n.T(i18n.Pick(c.Request()), key, args...)
}

func (ui *UI) loginForm(c echo.Context) error {
	if s := Session(c); s != nil {
		return c.Redirect(http.StatusSeeOther, stagePaths[s.Stage])
	}
	return ui.Render(c, View{Name: "login", Title: "login.title"})
}

func (ui *UI) login(c echo.Context) error {
	ctx := c.Request().Context()
	u, err := ui.svc.Login(ctx, c.FormValue("username"), c.FormValue("password"), c.RealIP())
	if errors.Is(err, account.ErrBadCredentials) {
		ui.signIns.count(signInBadPassword)
		return ui.Render(c, View{Name: "login", Title: "login.title", Error: ui.t(c, "login.failed"), Status: http.StatusUnauthorized})
	}
	if err != nil {
		return err
	}
	if s := Session(c); s != nil { // signing in again ends the old session
		ui.svc.EndSession(ctx, actor(c), s, false)
	}
	stage := ui.svc.NextStage(u)
	token, err := ui.svc.StartSession(ctx, u, stage, c.RealIP(), c.Request().UserAgent())
	if err != nil {
		return err
	}
	setCookie(c, SessionCookie, token)
	return c.Redirect(http.StatusSeeOther, stagePaths[stage])
}

func (ui *UI) logout(c echo.Context) error {
	if err := ui.svc.EndSession(c.Request().Context(), actor(c), Session(c), false); err != nil {
		return err
	}
	clearCookie(c, SessionCookie)
	return c.Redirect(http.StatusSeeOther, "/login")
}

func (ui *UI) logoutAll(c echo.Context) error {
	if err := ui.svc.EndSession(c.Request().Context(), actor(c), Session(c), true); err != nil {
		return err
	}
	clearCookie(c, SessionCookie)
	return c.Redirect(http.StatusSeeOther, "/login")
}

// advance moves the session to the user's next stage under a new token.
func (ui *UI) advance(c echo.Context, s *account.Session) error {
	u, err := ui.svc.User(c.Request().Context(), s.User.ID)
	if err != nil {
		return err
	}
	next := ui.svc.NextStage(u)
	if s.Stage == account.StageOK || s.Stage == account.StageTOTP {
		next = account.StageOK // already past the second factor
	}
	was := s.Stage // Advance moves s on
	token, err := ui.svc.Advance(c.Request().Context(), s, next)
	if err != nil {
		return err
	}
	if next == account.StageOK && was != account.StageOK {
		ui.signIns.count(signInOK)
	}
	setCookie(c, SessionCookie, token)
	return c.Redirect(http.StatusSeeOther, stagePaths[next])
}

func (ui *UI) passwordForm(c echo.Context) error {
	notice := ""
	if Session(c).Stage == account.StagePassword {
		notice = ui.t(c, "pw.first")
	}
	return ui.Render(c, View{Name: "password", Title: "pw.title", Notice: notice})
}

func (ui *UI) changePassword(c echo.Context) error {
	s := Session(c)
	next, confirm := c.FormValue("new"), c.FormValue("confirm")
	fail := func(msg string) error {
		return ui.Render(c, View{Name: "password", Title: "pw.title", Error: msg, Status: http.StatusBadRequest})
	}
	if next != confirm {
		return fail(ui.t(c, "pw.mismatch"))
	}
	err := ui.svc.ChangePassword(c.Request().Context(), actor(c), s.User.ID, c.FormValue("current"), next, s.IDHash)
	var pe *account.PolicyError
	switch {
	case errors.As(err, &pe):
		return fail(ui.t(c, pe.Reason))
	case errors.Is(err, account.ErrLocked) && s.Stage != account.StageOK:
		return ui.startOver(c, s)
	case errors.Is(err, account.ErrLocked):
		return fail(ui.t(c, "signin.locked"))
	case errors.Is(err, account.ErrBadCredentials):
		return fail(ui.t(c, "pw.bad_current"))
	case err != nil:
		return err
	}
	return ui.advance(c, s)
}

// startOver ends a half-finished sign-in whose account is now locked: once
// the lock runs out, the password must be given again.
func (ui *UI) startOver(c echo.Context, s *account.Session) error {
	ui.signIns.count(signInLocked)
	ui.svc.EndSession(c.Request().Context(), actor(c), s, false)
	clearCookie(c, SessionCookie)
	return ui.Render(c, View{Name: "login", Title: "login.title", Error: ui.t(c, "login.failed"), Status: http.StatusUnauthorized})
}

type enrollData struct {
	Secret string
	QR     template.URL // data: URI of the PNG, allowed by the CSP's img-src
}

func (ui *UI) enrollForm(c echo.Context) error {
	return ui.showEnroll(c, http.StatusOK, "")
}

func (ui *UI) showEnroll(c echo.Context, status int, errMsg string) error {
	e, err := ui.svc.PendingTOTP(c.Request().Context(), Session(c).User)
	if err != nil {
		return err
	}
	d := enrollData{Secret: e.Secret, QR: template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(e.QRPNG))}
	return ui.Render(c, View{Name: "totp_enroll", Title: "totp.enroll.title", Data: d, Error: errMsg, Status: status})
}

func (ui *UI) enroll(c echo.Context) error {
	s := Session(c)
	codes, err := ui.svc.ConfirmTOTP(c.Request().Context(), actor(c), s.User, c.FormValue("code"), c.FormValue("current"))
	switch {
	case errors.Is(err, account.ErrLocked):
		ui.signIns.count(signInLocked)
		return ui.showEnroll(c, http.StatusUnauthorized, ui.t(c, "signin.locked"))
	case errors.Is(err, account.ErrBadCurrentCode):
		ui.signIns.count(signInBadCode)
		return ui.showEnroll(c, http.StatusUnauthorized, ui.t(c, "totp.bad_current"))
	case errors.Is(err, account.ErrBadCode):
		ui.signIns.count(signInBadCode)
		return ui.showEnroll(c, http.StatusBadRequest, ui.t(c, "totp.bad_code"))
	case err != nil:
		return err
	}
	was := s.Stage
	token, err := ui.svc.Advance(c.Request().Context(), s, account.StageOK)
	if err != nil {
		return err
	}
	if was != account.StageOK {
		ui.signIns.count(signInOK)
	}
	setCookie(c, SessionCookie, token)
	return ui.Render(c, View{Name: "recovery", Title: "recovery.title", Data: codes})
}

func (ui *UI) challengeForm(c echo.Context) error {
	return ui.Render(c, View{Name: "totp", Title: "totp.title"})
}

func (ui *UI) challenge(c echo.Context) error {
	s := Session(c)
	err := ui.svc.VerifySecondFactor(c.Request().Context(), actor(c), s.User, c.FormValue("code"))
	switch {
	case errors.Is(err, account.ErrLocked):
		return ui.startOver(c, s)
	case errors.Is(err, account.ErrBadCode):
		ui.signIns.count(signInBadCode)
		return ui.Render(c, View{Name: "totp", Title: "totp.title", Error: ui.t(c, "totp.bad_code"), Status: http.StatusUnauthorized})
	case err != nil:
		return err
	}
	return ui.advance(c, s)
}

func (ui *UI) home(c echo.Context) error {
	if to, ok := ui.cfg.Homes[Session(c).User.Role]; ok {
		return c.Redirect(http.StatusSeeOther, to)
	}
	return ui.Render(c, View{Name: "home", Title: "home.title"})
}
