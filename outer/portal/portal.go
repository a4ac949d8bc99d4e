// Package portal is the outer appliance's web pages beyond accounts: the
// officers' catalog of the clips addressed to them, the download of a
// sealed package, the browser player and its license endpoint, officer
// registration, and the outer admin's pages. Each handler is one file
// named noun_verb.go; routes.go says who may use each route. Records live
// in outer/pkgstore; the license policy and key wrapping in outer/license
// (docs/portal.md).
package portal

import (
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"sealgate/outer/expiry"
	"sealgate/outer/license"
	"sealgate/outer/officers"
	"sealgate/outer/pkgstore"
	"sealgate/shared/account"
	"sealgate/shared/accountui"
	"sealgate/shared/audit"
	"sealgate/shared/config"
	"sealgate/shared/keys"
	"sealgate/shared/seal"
)

//go:embed templates/*.html
var templateFiles embed.FS

// Pages are every template of the portal's pages (templates/*.html), for
// accountui.Config.Pages.
func Pages() fs.FS {
	sub, err := fs.Sub(templateFiles, "templates")
	if err != nil {
		panic(err)
	}
	return sub
}

// Config is what the portal is built from.
type Config struct {
	UI       *accountui.UI
	DB       *pgxpool.Pool
	Accounts *account.Service
	Store    *pkgstore.Store
	License  *license.Service // the player's license service (outer/license)
	Audit    *audit.Log
	Metrics  prometheus.Registerer
	Log      *slog.Logger

	// Expiry revokes a package from the admin's form (and counts it).
	Expiry *expiry.Sweeper
	// StoreDir is the package store's directory (transfer.store_dir) and
	// QuotaBytes what it may hold (transfer.quota_gb; 0: the disk), for
	// the admin's storage page.
	StoreDir   string
	QuotaBytes int64
	// Peers are the paired inner appliances (transfer.peers).
	Peers []config.Peer
	// Officers are the registrations and the officers' profiles.
	Officers *officers.Registry
}

// Portal serves the pages.
type Portal struct {
	cfg     Config
	ui      *accountui.UI
	log     *slog.Logger
	dir     *pkgstore.Dir // files only: the receiver keeps the records
	peers   []peer
	metrics *metrics
	now     func() time.Time
}

// peer is a paired inner appliance as the admin's pages show it.
type peer struct {
	config.Peer
	SignerKeyID string // sha256: of its signing.pub; "" when unreadable
	KeyError    string // why it is unreadable
}

// New builds the portal and adds its routes to cfg.UI.
func New(cfg Config) (*Portal, error) {
	if cfg.Expiry == nil { // revocations work without the daemon's sweeper, uncounted
		cfg.Expiry = expiry.New(cfg.Store, cfg.Log)
	}
	p := &Portal{cfg: cfg, ui: cfg.UI, log: cfg.Log, now: time.Now}
	if cfg.StoreDir != "" {
		dir, err := pkgstore.OpenDir(cfg.StoreDir, nil)
		if err != nil {
			return nil, fmt.Errorf("portal: %w", err)
		}
		p.dir = dir
	}
	for _, c := range cfg.Peers {
		pr := peer{Peer: c}
		if pub, err := keys.ReadSigningPub(c.SigningPub); err != nil {
			pr.KeyError = err.Error()
		} else {
			pr.SignerKeyID = seal.KeyID(pub)
		}
		p.peers = append(p.peers, pr)
	}
	m, err := newMetrics(cfg.Metrics, cfg.Store, cfg.Log)
	if err != nil {
		return nil, err
	}
	p.metrics = m
	p.routes()
	return p, nil
}

// pinnedPeer is the paired inner appliance whose pinned signing key has
// the id keyID, or "".
func (p *Portal) pinnedPeer(keyID string) string {
	for _, pr := range p.peers {
		if keyID != "" && pr.SignerKeyID == keyID {
			return pr.Name
		}
	}
	return ""
}
