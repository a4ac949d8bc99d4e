// Package pkgstore keeps the sealed packages the outer appliance holds: it
// owns the store directory (Dir: files named by their SHA-256, arrivals
// under incoming/), which transfer/receive reaches through its Store
// interface, and the packages table (Store: one row each).
package pkgstore

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"sealgate/shared/audit"
	"sealgate/shared/seal"
)

// Package is one stored package.
type Package struct {
	ID              string     `json:"id"`     // the hex SHA-256 of the package file
	SHA256          string     `json:"sha256"` // the same, by its contract name
	Size            int64      `json:"size"`
	State           string     `json:"state"` // available, destroyed
	Peer            string     `json:"peer"`
	ReceivedAt      time.Time  `json:"received_at"`
	ExportID        string     `json:"export_id"`
	ExportCode      string     `json:"export_code,omitempty"`
	Recipient       string     `json:"recipient"`            // the officer's account at the portal
	ViewFrom        *time.Time `json:"view_from,omitempty"`  // the viewing window, from the signed manifest
	ExpiresAt       *time.Time `json:"expires_at,omitempty"` // view_until: destroyed then
	Destroyed       *time.Time `json:"destroyed_at,omitempty"`
	DestroyedBy     string     `json:"destroyed_by,omitempty"`
	DestroyedReason string     `json:"destroyed_reason,omitempty"`
	// What the catalog shows, from the signed manifest.
	CameraName     string     `json:"camera_name,omitempty"`
	CameraLocation string     `json:"camera_location,omitempty"`
	TimeFrom       *time.Time `json:"time_from,omitempty"` // the footage's time range
	TimeTo         *time.Time `json:"time_to,omitempty"`
	ReasonCode     string     `json:"reason_code,omitempty"`
	SignerKeyID    string     `json:"signer_key_id,omitempty"` // sha256: of the key the signature verified against
	Agency         string     `json:"agency,omitempty"`        // the recipient's
	MediaType      string     `json:"media_type,omitempty"`
	FileName       string     `json:"file_name,omitempty"`
	Path           string     `json:"-"`
}

// Store is the packages table.
type Store struct {
	pool  *pgxpool.Pool
	audit *audit.Log
}

// New returns the Store; audit records each arrival.
func New(pool *pgxpool.Pool, log *audit.Log) *Store { return &Store{pool: pool, audit: log} }

// Stored records a package the receiver has verified and stored, with what
// its signed manifest says of its recipient and viewing window (nil: a file
// recovered without one); a second record of the same package changes
// nothing.
func (s *Store) Stored(ctx context.Context, peer string, sum [32]byte, size int64, path string, m *seal.Manifest) error {
	var c Package // the manifest's facts; zero without one
	if m != nil {
		c = Package{ExportID: m.ExportID, ExportCode: m.ExportCode, Recipient: m.Recipient.Name, Agency: m.Recipient.Agency,
			ViewFrom: timeOrNil(m.ViewFrom), ExpiresAt: timeOrNil(m.ViewUntil), CameraName: m.Camera.Name, CameraLocation: m.Camera.Location,
			TimeFrom: timeOrNil(m.TimeFrom), TimeTo: timeOrNil(m.TimeTo), ReasonCode: m.ReasonCode, SignerKeyID: m.SignerKeyID,
			MediaType: m.MediaType, FileName: m.FileName}
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO packages (sha256, peer, size, path, export_id, export_code, recipient, view_from, view_until,
				camera_name, camera_location, time_from, time_to, reason_code, signer_key_id, agency, media_type, file_name)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) ON CONFLICT (sha256) DO NOTHING`,
			sum[:], peer, size, path, c.ExportID, c.ExportCode, c.Recipient, c.ViewFrom, c.ExpiresAt,
			c.CameraName, c.CameraLocation, c.TimeFrom, c.TimeTo, c.ReasonCode, c.SignerKeyID, c.Agency, c.MediaType, c.FileName)
		if err != nil {
			return fmt.Errorf("pkgstore: record package: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return nil
		}
		detail := fmt.Sprintf("%d bytes", size)
		if m != nil {
			detail += fmt.Sprintf(", export %s for %s until %s, signed by %s", c.ExportCode, c.Recipient, formatTime(c.ExpiresAt), c.SignerKeyID)
		}
		return s.audit.AppendTx(ctx, tx, audit.Entry{Actor: "peer:" + peer, Action: "transfer.receive", Target: hex.EncodeToString(sum[:]),
			Detail: detail})
	})
}

// timeOrNil is nil for a time the manifest leaves out.
func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func formatTime(t *time.Time) string {
	if t == nil {
		return "(no end)"
	}
	return t.UTC().Format(time.RFC3339)
}

const packageColumns = `sha256, size, state, peer, received_at, export_id, export_code, recipient, view_from, view_until,
	destroyed_at, destroyed_by, destroyed_reason, camera_name, camera_location, time_from, time_to, reason_code, signer_key_id,
	agency, media_type, file_name, path`

func scanPackage(r pgx.Row) (Package, error) {
	var p Package
	var sum []byte
	err := r.Scan(&sum, &p.Size, &p.State, &p.Peer, &p.ReceivedAt, &p.ExportID, &p.ExportCode, &p.Recipient, &p.ViewFrom, &p.ExpiresAt,
		&p.Destroyed, &p.DestroyedBy, &p.DestroyedReason, &p.CameraName, &p.CameraLocation, &p.TimeFrom, &p.TimeTo, &p.ReasonCode,
		&p.SignerKeyID, &p.Agency, &p.MediaType, &p.FileName, &p.Path)
	p.ID = hex.EncodeToString(sum)
	p.SHA256 = p.ID
	return p, err
}

// List returns the packages, newest first.
func (s *Store) List(ctx context.Context) ([]Package, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+packageColumns+` FROM packages ORDER BY received_at DESC, sha256`)
	if err != nil {
		return nil, fmt.Errorf("pkgstore: list: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Package, error) { return scanPackage(r) })
}

// Due lists the available packages whose viewing window has ended by now.
func (s *Store) Due(ctx context.Context, now time.Time) ([]Package, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+packageColumns+` FROM packages WHERE state = 'available' AND view_until <= $1
		ORDER BY view_until`, now)
	if err != nil {
		return nil, fmt.Errorf("pkgstore: packages due: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Package, error) { return scanPackage(r) })
}

// ErrNotFound: no such package; ErrDestroyed: it is destroyed already.
var (
	ErrNotFound  = errors.New("pkgstore: no such package")
	ErrDestroyed = errors.New("pkgstore: package already destroyed")
)

// Destroy removes package id's file and records it destroyed, by whom and
// why, in one transaction with its audit entry: the file is removed
// before the row commits, so a failed removal leaves the package as it
// was, and a row that fails to commit after it finds the file gone at the
// next try (removing a missing file succeeds). The file is unlinked, not
// overwritten: on flash storage an overwrite does not reach the old
// blocks; the package is encrypted, and its keys go with the file.
func (s *Store) Destroy(ctx context.Context, id, by, why string) (*Package, error) {
	sum, err := hex.DecodeString(id)
	if err != nil || len(sum) != 32 {
		return nil, fmt.Errorf("%w: %q", ErrNotFound, id)
	}
	var p Package
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		p, err = scanPackage(tx.QueryRow(ctx, `SELECT `+packageColumns+` FROM packages WHERE sha256 = $1 FOR UPDATE`, sum))
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return fmt.Errorf("%w: %s", ErrNotFound, id)
		case err != nil:
			return fmt.Errorf("pkgstore: %w", err)
		case p.State == "destroyed":
			return fmt.Errorf("%w: %s at %s", ErrDestroyed, id, p.Destroyed.UTC().Format(time.RFC3339))
		}
		if err := os.Remove(p.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("pkgstore: destroy %s: %w", id, err)
		}
		if err := syncDir(filepath.Dir(p.Path)); err != nil {
			return fmt.Errorf("pkgstore: destroy %s: %w", id, err)
		}
		if err := tx.QueryRow(ctx, `UPDATE packages SET state = 'destroyed', destroyed_at = now(), destroyed_by = $2, destroyed_reason = $3
			WHERE sha256 = $1 RETURNING state, destroyed_at, destroyed_by, destroyed_reason`, sum, by, why).
			Scan(&p.State, &p.Destroyed, &p.DestroyedBy, &p.DestroyedReason); err != nil {
			return fmt.Errorf("pkgstore: record destruction: %w", err)
		}
		return s.audit.AppendTx(ctx, tx, audit.Entry{Actor: by, Action: "package.destroy", Target: id,
			Detail: fmt.Sprintf("export %s for %s: %s", p.ExportCode, p.Recipient, why)})
	})
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// Reconcile records package files in dir that have no row: the receiver
// stores the file before the row, so a crash between the two leaves one.
func (s *Store) Reconcile(ctx context.Context, dir string) (int, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.sgpkg"))
	if err != nil {
		return 0, err
	}
	n := 0
	for _, f := range files {
		raw, err := hex.DecodeString(strings.TrimSuffix(filepath.Base(f), ".sgpkg"))
		if err != nil || len(raw) != 32 {
			continue
		}
		var exists bool
		if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM packages WHERE sha256 = $1)`, raw).Scan(&exists); err != nil {
			return n, fmt.Errorf("pkgstore: %w", err)
		}
		if exists {
			continue
		}
		fi, err := os.Stat(f)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			return n, err
		}
		var sum [32]byte
		copy(sum[:], raw)
		// The receiver verified the file against its inner's key before
		// keeping it; its manifest is read back for the window (a file
		// that has none is recorded without one, for an admin to revoke).
		var m *seal.Manifest
		if pf, pkg, err := seal.OpenFile(f, nil); err == nil {
			pf.Close()
			m = pkg.Manifest
		}
		if err := s.Stored(ctx, "unknown (recovered at start)", sum, fi.Size(), f, m); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// Get returns package id, whatever its state.
func (s *Store) Get(ctx context.Context, id string) (*Package, error) {
	sum, err := hex.DecodeString(id)
	if err != nil || len(sum) != 32 {
		return nil, fmt.Errorf("%w: %q", ErrNotFound, id)
	}
	p, err := scanPackage(s.pool.QueryRow(ctx, `SELECT `+packageColumns+` FROM packages WHERE sha256 = $1`, sum))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	case err != nil:
		return nil, fmt.Errorf("pkgstore: %w", err)
	}
	return &p, nil
}

// ForRecipient returns package id if it is addressed to recipient (an
// officer's account name) and its viewing window has begun by now. Any
// other package, held or not, is ErrNotFound, so that an officer cannot
// learn what exists; one of theirs that is destroyed, or whose window has
// ended, is ErrDestroyed (the portal's 410 Gone), the package returned
// with it for the page to say when and why.
func (s *Store) ForRecipient(ctx context.Context, recipient, id string, now time.Time) (*Package, error) {
	p, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if recipient == "" || p.Recipient != recipient || (p.ViewFrom != nil && now.Before(*p.ViewFrom)) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if p.Gone(now) {
		return p, fmt.Errorf("%w: %s", ErrDestroyed, id)
	}
	return p, nil
}

// Gone says the package cannot be had at now: it is destroyed, or its
// viewing window has ended (the sweeper destroys it within a minute).
func (p *Package) Gone(now time.Time) bool {
	return p.State == "destroyed" || (p.ExpiresAt != nil && !now.Before(*p.ExpiresAt))
}
