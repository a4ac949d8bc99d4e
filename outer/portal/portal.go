// Package portal is the outer appliance's web pages beyond accounts: the
// officers' catalog of the clips addressed to them, the download of a
// sealed package, the browser player and its license endpoint, officer
// registration, and the outer admin's pages. Each handler is one file
// named noun_verb.go; routes.go says who may use each route. Records live
// in outer/pkgstore; the license policy and key wrapping in outer/license
// (docs/portal.md).
package portal

import (
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"sealgate/outer/pkgstore"
	"sealgate/shared/account"
	"sealgate/shared/accountui"
	"sealgate/shared/audit"
)

// Config is what the portal is built from.
type Config struct {
	UI       *accountui.UI
	DB       *pgxpool.Pool
	Accounts *account.Service
	Store    *pkgstore.Store
	Audit    *audit.Log
	Metrics  prometheus.Registerer
	Log      *slog.Logger
}

// Portal serves the pages.
type Portal struct {
	cfg Config
	ui  *accountui.UI
	log *slog.Logger
}

// New builds the portal and adds its routes to cfg.UI.
func New(cfg Config) (*Portal, error) {
	p := &Portal{cfg: cfg, ui: cfg.UI, log: cfg.Log}
	p.routes()
	return p, nil
}
