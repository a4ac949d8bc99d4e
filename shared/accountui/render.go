package accountui

import (
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"sealgate/shared/account"
	"sealgate/shared/i18n"
	"sealgate/shared/web"
)

// page is what every template gets.
type page struct {
	Lang, OtherLang string
	App, Title      string // i18n keys
	CSRF            string
	User            *account.User
	CanUsers        bool
	CanAudit        bool
	CanDevice       bool
	Nav             []NavItem // the daemon's pages this user may use
	SignUp          string    // where a visitor asks for an account (Config.SignUp)
	Notice, Error   string
	Data            any
}

var funcs = template.FuncMap{
	"T": i18n.T,
	"time": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(i18n.Zone).Format("2006-01-02 15:04:05 KST")
	},
	"join": strings.Join,
	"list": func(s ...string) []string { return s },
}

// parsePages parses each page in dir of fsys with the layout, once at
// start: a missing or broken template stops the daemon instead of failing a
// user later.
func parsePages(fsys fs.FS, dir string) map[string]*template.Template {
	names, err := fs.ReadDir(fsys, dir)
	if err != nil {
		panic(err)
	}
	// Files named _*.html are partials: parsed with every page of dir,
	// pages of none.
	var partials []string
	for _, n := range names {
		if strings.HasPrefix(n.Name(), "_") && strings.HasSuffix(n.Name(), ".html") {
			partials = append(partials, path.Join(dir, n.Name()))
		}
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		if n.Name() == "layout.html" || strings.HasPrefix(n.Name(), "_") || !strings.HasSuffix(n.Name(), ".html") {
			continue
		}
		t := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFiles, "templates/layout.html"))
		t = template.Must(t.ParseFS(fsys, append([]string{path.Join(dir, n.Name())}, partials...)...))
		pages[strings.TrimSuffix(n.Name(), ".html")] = t
	}
	return pages
}

// View is one page to render: template Name (of Config.Pages or of ours)
// inside the layout, in the user's language.
type View struct {
	Name   string
	Title  string // an i18n key
	Data   any    // the template's .Data
	Notice string // a message that something worked
	Error  string // a message that something did not
	Status int    // 0 is 200
}

// Render writes v as the response.
func (ui *UI) Render(c echo.Context, v View) error {
	name, status := v.Name, v.Status
	if status == 0 {
		status = http.StatusOK
	}
	t, ok := ui.pages[name]
	if !ok {
		panic("accountui: no page " + name) // programming error, caught by tests
	}
	lang := i18n.Pick(c.Request())
	p := page{Lang: lang, OtherLang: other(lang), App: ui.cfg.AppKey, Title: v.Title, Data: v.Data, Notice: v.Notice, Error: v.Error,
		SignUp: ui.cfg.SignUp}
	p.CSRF, _ = c.Get(web.CSRFKey).(string)
	if s := Session(c); s != nil && s.Stage == account.StageOK {
		p.User = s.User
		p.CanUsers = slices.Contains(ui.cfg.AdminRoles, s.User.Role)
		p.CanAudit = slices.Contains(ui.cfg.AuditRoles, s.User.Role)
		p.CanDevice = p.CanUsers && ui.cfg.Device != nil
		for _, n := range ui.cfg.Nav {
			if slices.Contains(n.Roles, s.User.Role) {
				p.Nav = append(p.Nav, n)
			}
		}
	}
	c.Response().Header().Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	c.Response().WriteHeader(status)
	return t.Execute(c.Response(), p)
}

func other(lang string) string {
	if lang == "ko" {
		return "en"
	}
	return "ko"
}

// errorPage renders HTTP errors as a page in the user's language.
func (ui *UI) errorPage(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	code, msg := http.StatusInternalServerError, "error.generic"
	var he *echo.HTTPError
	if errors.As(err, &he) {
		code = he.Code
		if m, ok := he.Message.(string); ok {
			msg = m
		}
	}
	if code == http.StatusForbidden {
		msg = "error.forbidden"
	}
	if code >= 500 {
		ui.log.Error("request failed", slog.String("path", c.Request().URL.Path), slog.Any("error", err))
		msg = "error.generic"
	}
	if !i18n.Has(msg) {
		msg = "error.generic"
	}
	if c.Request().Method == http.MethodHead {
		c.NoContent(code)
		return
	}
	ui.Render(c, View{Name: "error", Title: "error.title", Data: i18n.T(i18n.Pick(c.Request()), msg), Status: code})
}

// setLang remembers the chosen language and goes back where the user was.
func (ui *UI) setLang(c echo.Context) error {
	lang := c.FormValue("lang")
	if !i18n.Supported(lang) {
		return echo.NewHTTPError(http.StatusBadRequest)
	}
	c.SetCookie(&http.Cookie{Name: i18n.Cookie, Value: lang, Path: "/", Secure: true, SameSite: http.SameSiteStrictMode, MaxAge: 365 * 24 * 3600})
	back := c.FormValue("back")
	if back == "" || !strings.HasPrefix(back, "/") || strings.HasPrefix(back, "//") || strings.Contains(back, "\\") {
		back = "/"
	}
	return c.Redirect(http.StatusSeeOther, path.Clean(back))
}
