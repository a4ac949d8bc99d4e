// Package officers keeps the outer appliance's officers beyond their
// accounts: self-registrations an outer admin approves or refuses, and each
// officer's profile (name, agency, badge number, phone, official e-mail)
// kept beside the account (docs/portal.md, "Officer accounts").
//
// # Personal data
//
// Every personal value is encrypted with the account service's
// [account.PII] (AES-256-GCM under pii.key), its associated data binding it
// to its column and its row: "registration/<id>" for a request, the user
// name for a profile. Badge numbers and e-mail addresses also get a keyed
// blind index, so a second registration of either is refused without
// either being stored in clear. A decided or expired request keeps only a
// minimal record (when, who, why); the rest is erased.
//
// # What a visitor learns
//
// [Registry.Register] answers a well-formed request the same way whether
// it was stored or refused as a duplicate, so the page reveals no badge,
// e-mail or user name. A user name already taken is refused at approval.
package officers

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"sealgate/shared/account"
	"sealgate/shared/audit"
)

// PendingFor is how long a request waits for a decision before it is
// purged: personal data is not kept longer than the review needs.
const PendingFor = 30 * 24 * time.Hour

// Role is the account role an approval grants.
const Role = "officer"

// Sentinel errors.
var (
	ErrNoRegistration = errors.New("officers: no such pending registration")
	ErrNoProfile      = errors.New("officers: no profile for this account")
	// ErrUsernameTaken refuses an approval whose user name an account
	// already has (it may have been taken after the request).
	ErrUsernameTaken = errors.New("officers: the user name is already taken")
	// ErrDuplicate refuses an approval or a direct creation whose badge
	// number or e-mail address an officer already has.
	ErrDuplicate = errors.New("officers: an officer with this badge number or e-mail address already exists")
	ErrNoReason  = errors.New("officers: a refusal needs a reason (at most 1000 characters)")
)

// Config is what a Registry is built from.
type Config struct {
	DB       *pgxpool.Pool
	Accounts *account.Service
	Audit    *audit.Log
	// EmailDomains are the official e-mail domains (config
	// officers.email_domains); empty: any.
	EmailDomains []string
	Metrics      prometheus.Registerer
	Log          *slog.Logger
}

// Registry holds the registrations and the profiles.
type Registry struct {
	db       *pgxpool.Pool
	accounts *account.Service
	pii      *account.PII
	audit    *audit.Log
	domains  []string
	metrics  *metrics
	log      *slog.Logger
	now      func() time.Time
}

// New returns the Registry and registers its metrics.
func New(cfg Config) (*Registry, error) {
	m, err := newMetrics(cfg.Metrics)
	if err != nil {
		return nil, err
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Registry{db: cfg.DB, accounts: cfg.Accounts, pii: cfg.Accounts.PII(), audit: cfg.Audit, domains: cfg.EmailDomains,
		metrics: m, log: log, now: time.Now}, nil
}

// Columns of personal data as the AAD and the blind indexes name them. The
// index columns are the same for requests and profiles, so a badge pending
// and a badge of an officer compare equal.
const (
	colName   = "officer.full_name"
	colAgency = "officer.agency"
	colBadge  = "officer.badge"
	colPhone  = "officer.phone"
	colEmail  = "officer.email"
)

func registrationRow(id int64) string { return "registration/" + strconv.FormatInt(id, 10) }

// sealed is a form's personal data encrypted for one row.
type sealed struct {
	name, agency, badge, badgeIndex, phone, email, emailIndex []byte
}

func (r *Registry) seal(row string, f *Person) sealed {
	return sealed{
		name: r.pii.Seal(colName, row, f.FullName), agency: r.pii.Seal(colAgency, row, f.Agency),
		badge: r.pii.Seal(colBadge, row, f.Badge), badgeIndex: r.pii.Index(colBadge, f.Badge),
		phone: r.pii.Seal(colPhone, row, f.Phone),
		email: r.pii.Seal(colEmail, row, f.Email), emailIndex: r.pii.Index(colEmail, f.Email),
	}
}

// open decrypts a row's personal data into f.
func (r *Registry) open(row string, s sealed, f *Person) error {
	for _, c := range []struct {
		col string
		src []byte
		dst *string
	}{{colName, s.name, &f.FullName}, {colAgency, s.agency, &f.Agency}, {colBadge, s.badge, &f.Badge}, {colPhone, s.phone, &f.Phone}, {colEmail, s.email, &f.Email}} {
		v, err := r.pii.Open(c.col, row, c.src)
		if err != nil {
			return fmt.Errorf("officers: %s of %s: %w", c.col, row, err)
		}
		*c.dst = v
	}
	return nil
}

// Domains are the official e-mail domains a registration may give; empty: any.
func (r *Registry) Domains() []string { return slices.Clone(r.domains) }
