// Package accountui is the account side of both web UIs: sign-in with
// password and TOTP, password change, TOTP enrolment with recovery codes,
// user administration and the audit log page, in Korean and English.
//
// # Access
//
// Every route states who may use it ([UI.Handle]): the public, a session at
// a given sign-in stage, or signed-in users with given roles. The table of
// routes is kept ([UI.Routes]) so a test can walk it and prove every other
// role is refused with 403. Every state-changing request needs the CSRF
// token ([web.CSRF]); the daemons' own pages register through the same
// [UI.Handle], so they inherit all of it.
package accountui

import (
	"context"
	"embed"
	"html/template"
	"io/fs"
	"log/slog"
	"maps"
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"sealgate/shared/account"
	"sealgate/shared/audit"
	"sealgate/shared/web"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// SessionCookie carries the session token (host-only, Secure, HttpOnly,
// SameSite=Strict; no Max-Age: the server enforces the timeouts).
const SessionCookie = "__Host-sealgate-session"

// Config describes the daemon the pages belong to.
type Config struct {
	AppKey     string   // i18n key of the daemon's name: app.inner or app.outer
	AdminRoles []string // may manage users
	AuditRoles []string // may read the audit log
	// Nav lists the daemon's own pages in the header, each shown to the
	// roles that may use it.
	Nav []NavItem
	// Homes are where a role lands instead of the home page (the portal's
	// officers on their catalog), by role.
	Homes map[string]string
	// Pages are the daemon's own templates (*.html defining "content"),
	// rendered inside the shared layout with [UI.Render].
	Pages fs.FS
	// SignUp, if set, is the public page where a visitor asks for an
	// account (the portal's officer registration), linked from sign-in.
	SignUp string
	// Metrics, if set, receives the sign-in counters.
	Metrics prometheus.Registerer
	// Device, if set, gathers the admins' device page (/device).
	Device func(context.Context) (*Device, error)
}

// NavItem is a link in the header.
type NavItem struct {
	Path, Key string // Key: i18n key of the label
	Roles     []string
}

// DefaultBodyLimit caps every request body but the uploads a route allows
// ([UI.HandleUpload]): forms are small, and an unauthenticated client must
// not be able to fill the disk with a multipart post.
const DefaultBodyLimit = 1 << 20

// UI serves the account pages.
type UI struct {
	cfg     Config
	echo    *echo.Echo
	svc     *account.Service
	audit   *audit.Log
	log     *slog.Logger
	pages   map[string]*template.Template
	routes  []Route
	uploads map[string]upload // by method+" "+path
	limits  *signInLimits
	signIns *signInMetrics
}

// Route is one entry of the access table.
type Route struct {
	Method, Path string
	Public       bool     // anyone, signed in or not
	Stages       []string // a session at one of these sign-in stages
	Roles        []string // a fully signed-in user with one of these roles; empty: any
}

// New registers the account pages on e.
func New(e *echo.Echo, svc *account.Service, log *audit.Log, cfg Config, logger *slog.Logger) *UI {
	ui := &UI{cfg: cfg, echo: e, svc: svc, audit: log, log: logger, pages: parsePages(templateFiles, "templates"), uploads: map[string]upload{}}
	if cfg.Pages != nil {
		maps.Copy(ui.pages, parsePages(cfg.Pages, "."))
	}
	// The session is known before the body is read: only a signed-in user
	// with the route's role gets an upload's larger limit.
	e.Use(ui.loadSession, ui.limitBody, web.CSRF)
	e.HTTPErrorHandler = ui.errorPage
	static, _ := fs.Sub(staticFiles, "static")
	e.GET("/static/*", echo.WrapHandler(http.StripPrefix("/static/", http.FileServerFS(static))))

	// Every sign-in step draws on the same per-address and per-account budgets.
	ui.signIns = newSignInMetrics(cfg.Metrics)
	limits := newSignInLimits(logger, ui.signIns)
	ui.limits = limits
	ui.public(http.MethodGet, "/login", ui.loginForm)
	ui.public(http.MethodPost, "/login", limits.wrap(ui.login, typedAccount))
	ui.public(http.MethodPost, "/lang", ui.setLang)
	ui.staged(http.MethodPost, "/logout", ui.logout, account.StagePassword, account.StageTOTPEnroll, account.StageTOTP, account.StageOK)
	ui.staged(http.MethodGet, "/password", ui.passwordForm, account.StagePassword, account.StageOK)
	ui.staged(http.MethodPost, "/password", limits.wrap(ui.changePassword, sessionAccount), account.StagePassword, account.StageOK)
	ui.staged(http.MethodGet, "/totp/enroll", ui.enrollForm, account.StageTOTPEnroll, account.StageOK)
	ui.staged(http.MethodPost, "/totp/enroll", limits.wrap(ui.enroll, sessionAccount), account.StageTOTPEnroll, account.StageOK)
	ui.staged(http.MethodGet, "/totp", ui.challengeForm, account.StageTOTP)
	ui.staged(http.MethodPost, "/totp", limits.wrap(ui.challenge, sessionAccount), account.StageTOTP)
	ui.route(Route{Method: http.MethodPost, Path: "/logout/all"}, ui.logoutAll)
	ui.route(Route{Method: http.MethodGet, Path: "/"}, ui.home)
	ui.Handle(http.MethodGet, "/users", cfg.AdminRoles, ui.users)
	ui.Handle(http.MethodPost, "/users", cfg.AdminRoles, ui.createUser)
	ui.Handle(http.MethodPost, "/users/:id/role", cfg.AdminRoles, ui.setRole)
	ui.Handle(http.MethodPost, "/users/:id/:op", cfg.AdminRoles, ui.administer)
	ui.Handle(http.MethodGet, "/audit", cfg.AuditRoles, ui.auditPage)
	ui.Handle(http.MethodGet, "/audit.csv", cfg.AuditRoles, ui.auditCSV)
	if cfg.Device != nil {
		ui.Handle(http.MethodGet, "/device", cfg.AdminRoles, ui.devicePage)
	}
	return ui
}

// Routes returns the access table.
func (ui *UI) Routes() []Route { return slices.Clone(ui.routes) }

// Handle adds a page for signed-in users with one of roles.
func (ui *UI) Handle(method, path string, roles []string, h echo.HandlerFunc) {
	ui.route(Route{Method: method, Path: path, Roles: roles}, h)
}

// upload is a route's larger body limit and the roles it is granted to.
type upload struct {
	limit int64
	roles []string
}

// HandleUpload adds a page for signed-in users with one of roles that
// accepts a request body of up to limit bytes (a file upload).
func (ui *UI) HandleUpload(method, path string, roles []string, limit int64, h echo.HandlerFunc) {
	ui.uploads[method+" "+path] = upload{limit: limit, roles: roles}
	ui.Handle(method, path, roles, h)
}

func (ui *UI) public(method, path string, h echo.HandlerFunc, mw ...echo.MiddlewareFunc) {
	ui.add(Route{Method: method, Path: path, Public: true}, h, mw...)
}

func (ui *UI) staged(method, path string, h echo.HandlerFunc, stages ...string) {
	ui.add(Route{Method: method, Path: path, Stages: stages}, h)
}

func (ui *UI) route(r Route, h echo.HandlerFunc) { ui.add(r, h) }

func (ui *UI) add(r Route, h echo.HandlerFunc, mw ...echo.MiddlewareFunc) {
	ui.routes = append(ui.routes, r)
	ui.echo.Add(r.Method, r.Path, ui.guard(r, h), mw...)
}
