// Package license is the outer appliance's license service: it releases a
// package's payload key to the browser player of the officer the package
// is addressed to, inside the package's viewing window and within
// license.max_plays plays per officer and package, and never as bytes the
// page's script can read (docs/portal.md, "Player and license").
//
// # Release
//
// [Service.Release] checks the package ([pkgstore.Store.ForRecipient]),
// parses the page's ECDH P-256 public key, then, under the package row's
// lock, counts the officer's plays, opens the package's HPKE wrap with the
// license key (reading only the header: the package was verified against
// its inner's signing key when it arrived), derives the payload key and
// wraps it to the page's key ([wrap]); the play's row and its audit entry
// commit together. Every refusal is audited (license.refuse) and counted
// by reason.
//
// # Media
//
// [Service.Media] lets the player's session fetch the encrypted package
// by Range once it holds a license for it: the release is the audited play,
// its byte ranges are not audited one by one.
package license

import (
	"bufio"
	"context"
	"crypto/ecdh"
	"crypto/hpke"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"sealgate/outer/pkgstore"
	"sealgate/shared/audit"
	"sealgate/shared/seal"
)

// Refusals. Each also wraps pkgstore.ErrNotFound (answer 404) or
// pkgstore.ErrDestroyed (410) where the package's existence or end is what
// the officer may be told.
var (
	ErrOutsideWindow = errors.New("license: outside the package's viewing window")
	ErrPlayLimit     = errors.New("license: no plays of this package left")
	ErrBadKey        = errors.New("license: not an uncompressed P-256 public key")
	ErrNoLicense     = errors.New("license: this session holds no license for the package")
)

// MediaGrant is how long a release lets its session fetch the package's
// bytes: long enough for a long clip watched with pauses.
const MediaGrant = 12 * time.Hour

// Config is what the service is built from.
type Config struct {
	DB       *pgxpool.Pool
	Store    *pkgstore.Store
	Audit    *audit.Log
	Key      hpke.PrivateKey // the outer's license key (keys.Outer.License)
	MaxPlays int
	Metrics  prometheus.Registerer
	Log      *slog.Logger
	Now      func() time.Time // nil: time.Now
}

// Service releases licenses.
type Service struct {
	cfg     Config
	metrics *metrics
}

// New returns the service.
func New(cfg Config) (*Service, error) {
	if cfg.Key == nil {
		return nil, errors.New("license: no license key")
	}
	if cfg.MaxPlays < 1 {
		return nil, fmt.Errorf("license: max plays %d", cfg.MaxPlays)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Service{cfg: cfg, metrics: newMetrics(cfg.Metrics)}, nil
}

// Request is one license request from a signed-in officer's player.
type Request struct {
	Account   string // the officer's account name: the manifest's recipient
	PackageID string
	ClientKey []byte // the page's ECDH P-256 public key, uncompressed (65 bytes)
	Remote    string
	Session   []byte // the session's id hash (account.Session.IDHash)
}

// License is what the player needs to decrypt the package: the payload key
// wrapped to its key (see [wrap]) and where the chunks are.
type License struct {
	ServerKey     []byte `json:"server_key"` // the server's ephemeral P-256 public key, uncompressed
	Salt          []byte `json:"salt"`       // HKDF salt
	Info          string `json:"info"`       // HKDF info, also the AES-GCM additional data
	IV            []byte `json:"iv"`
	WrappedKey    []byte `json:"wrapped_key"` // AES-256-GCM of the 32-byte payload key, tag appended
	PayloadOffset int64  `json:"payload_offset"`
	PayloadSize   int64  `json:"payload_size"`
	ChunkSize     int    `json:"chunk_size"`
	Chunks        int64  `json:"chunks"`
	MediaType     string `json:"media_type"`
	Play          int    `json:"play"` // this release's number, 1…MaxPlays
	MaxPlays      int    `json:"max_plays"`
}

// Release checks r and releases the package's payload key wrapped to
// r.ClientKey, recording the play.
func (s *Service) Release(ctx context.Context, r Request) (*License, error) {
	now := s.cfg.Now()
	p, err := s.cfg.Store.ForRecipient(ctx, r.Account, r.PackageID, now)
	if err != nil {
		return nil, s.refuse(ctx, r, s.explain(ctx, r, p, err, now))
	}
	client, err := ecdh.P256().NewPublicKey(r.ClientKey)
	if err != nil {
		return nil, s.refuse(ctx, r, fmt.Errorf("%w: %d bytes", ErrBadKey, len(r.ClientKey)))
	}
	sum, _ := hex.DecodeString(p.ID)
	var lic *License
	err = pgx.BeginFunc(ctx, s.cfg.DB, func(tx pgx.Tx) error {
		// The package's row lock: counting and recording a play cannot
		// interleave with another request's, nor with its destruction.
		var state string
		var from, until *time.Time
		if err := tx.QueryRow(ctx, `SELECT state, view_from, view_until FROM packages WHERE sha256 = $1 FOR UPDATE`, sum).
			Scan(&state, &from, &until); err != nil {
			return fmt.Errorf("license: lock package: %w", err)
		}
		switch {
		case state == "destroyed":
			return fmt.Errorf("%w: %s", pkgstore.ErrDestroyed, p.ID)
		case until != nil && !now.Before(*until):
			return fmt.Errorf("%w (ended %s): %w", ErrOutsideWindow, until.UTC().Format(time.RFC3339), pkgstore.ErrDestroyed)
		case from != nil && now.Before(*from):
			return fmt.Errorf("%w (begins %s): %w", ErrOutsideWindow, from.UTC().Format(time.RFC3339), pkgstore.ErrNotFound)
		}
		var played int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM plays WHERE package = $1 AND account = $2`, sum, r.Account).Scan(&played); err != nil {
			return fmt.Errorf("license: count plays: %w", err)
		}
		if played >= s.cfg.MaxPlays {
			return fmt.Errorf("%w: %d of %d played", ErrPlayLimit, played, s.cfg.MaxPlays)
		}
		var err error
		if lic, err = s.issue(p, client); err != nil {
			return err
		}
		lic.Play, lic.MaxPlays = played+1, s.cfg.MaxPlays
		if _, err := tx.Exec(ctx, `INSERT INTO plays (package, account, session, released_at, remote) VALUES ($1, $2, $3, $4, $5)`,
			sum, r.Account, r.Session, now, r.Remote); err != nil {
			return fmt.Errorf("license: record play: %w", err)
		}
		return s.cfg.Audit.AppendTx(ctx, tx, audit.Entry{Actor: r.Account, Action: "license.release", Target: p.ID, Remote: r.Remote,
			Detail: fmt.Sprintf("export %s, play %d of %d, session %s", p.ExportCode, lic.Play, lic.MaxPlays, sessionID(r.Session))})
	})
	if err != nil {
		if reason(err) != "" {
			return nil, s.refuse(ctx, r, err)
		}
		s.metrics.requests.WithLabelValues("error").Inc()
		return nil, err
	}
	s.metrics.requests.WithLabelValues("released").Inc()
	return lic, nil
}

// issue opens package p's license wrap and wraps its payload key to client.
// The payload key is in memory only for this call and cleared after.
func (s *Service) issue(p *pkgstore.Package, client *ecdh.PublicKey) (*License, error) {
	f, err := os.Open(p.Path)
	if err != nil {
		return nil, fmt.Errorf("license: open package %s: %w", p.ID, err)
	}
	defer f.Close()
	h, err := seal.ReadHeader(bufio.NewReader(f))
	if err != nil {
		return nil, fmt.Errorf("license: package %s: %w", p.ID, err)
	}
	key, err := h.PayloadKey(s.cfg.Key)
	if err != nil {
		return nil, fmt.Errorf("license: package %s: %w", p.ID, err)
	}
	defer clear(key)
	lic, err := wrap(key, client, p.ID)
	if err != nil {
		return nil, err
	}
	lic.PayloadOffset, lic.PayloadSize, lic.ChunkSize, lic.Chunks = h.PayloadOffset, h.PayloadSize, seal.ChunkSize, h.Chunks
	lic.MediaType = h.Manifest.MediaType
	return lic, nil
}

// explain turns a ForRecipient refusal into its reason: a package of the
// officer's whose window has not begun, or has ended but is not destroyed
// yet, is outside_window; the answer stays 404 or 410 as ForRecipient says.
func (s *Service) explain(ctx context.Context, r Request, p *pkgstore.Package, err error, now time.Time) error {
	switch {
	case errors.Is(err, pkgstore.ErrDestroyed) && p != nil && p.State != "destroyed":
		return fmt.Errorf("%w (ended %s): %w", ErrOutsideWindow, p.ExpiresAt.UTC().Format(time.RFC3339), err)
	case errors.Is(err, pkgstore.ErrNotFound):
		if q, gerr := s.cfg.Store.Get(ctx, r.PackageID); gerr == nil && q.Recipient == r.Account && r.Account != "" && q.ViewFrom != nil && now.Before(*q.ViewFrom) {
			return fmt.Errorf("%w (begins %s): %w", ErrOutsideWindow, q.ViewFrom.UTC().Format(time.RFC3339), err)
		}
	}
	return err
}

// refuse audits and counts a refusal, and returns it.
func (s *Service) refuse(ctx context.Context, r Request, err error) error {
	why := reason(err)
	if why == "" {
		s.metrics.requests.WithLabelValues("error").Inc()
		return err
	}
	s.metrics.requests.WithLabelValues(why).Inc()
	target := r.PackageID
	if len(target) > 64 {
		target = target[:64]
	}
	if aerr := s.cfg.Audit.Append(ctx, audit.Entry{Actor: r.Account, Action: "license.refuse", Target: target, Outcome: audit.Denied,
		Remote: r.Remote, Detail: why + ": " + err.Error()}); aerr != nil {
		return errors.Join(err, aerr)
	}
	return err
}

// reason names a refusal for the audit log and the metrics; "" for a
// failure that is no refusal.
func reason(err error) string {
	switch {
	case errors.Is(err, ErrOutsideWindow):
		return "outside_window"
	case errors.Is(err, ErrPlayLimit):
		return "play_limit"
	case errors.Is(err, ErrBadKey):
		return "bad_key"
	case errors.Is(err, pkgstore.ErrNotFound):
		return "not_found"
	case errors.Is(err, pkgstore.ErrDestroyed):
		return "destroyed"
	}
	return ""
}

// Media returns package id for the player's Range requests: the package
// must be the officer's, inside its window, and this session must have had
// a license for it released within MediaGrant.
func (s *Service) Media(ctx context.Context, account, id string, session []byte) (*pkgstore.Package, error) {
	now := s.cfg.Now()
	p, err := s.cfg.Store.ForRecipient(ctx, account, id, now)
	if err != nil {
		return nil, err
	}
	sum, _ := hex.DecodeString(p.ID)
	var ok bool
	if err := s.cfg.DB.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM plays WHERE package = $1 AND account = $2 AND session = $3 AND released_at > $4)`,
		sum, account, session, now.Add(-MediaGrant)).Scan(&ok); err != nil {
		return nil, fmt.Errorf("license: %w", err)
	}
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrNoLicense, p.ID)
	}
	return p, nil
}

// sessionID is a short, non-secret name of a session for the audit log.
func sessionID(hash []byte) string {
	if len(hash) > 6 {
		hash = hash[:6]
	}
	return hex.EncodeToString(hash)
}
