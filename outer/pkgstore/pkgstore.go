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
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"sealgate/shared/audit"
)

// Package is one stored package.
type Package struct {
	ID         string    `json:"id"`     // the hex SHA-256 of the package file
	SHA256     string    `json:"sha256"` // the same, by its contract name
	Size       int64     `json:"size"`
	State      string    `json:"state"`
	Peer       string    `json:"peer"`
	ReceivedAt time.Time `json:"received_at"`
}

// Store is the packages table.
type Store struct {
	pool  *pgxpool.Pool
	audit *audit.Log
}

// New returns the Store; audit records each arrival.
func New(pool *pgxpool.Pool, log *audit.Log) *Store { return &Store{pool: pool, audit: log} }

// Stored records a package the receiver has verified and stored; a second
// record of the same package changes nothing.
func (s *Store) Stored(ctx context.Context, peer string, sum [32]byte, size int64, path string) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO packages (sha256, peer, size, path) VALUES ($1, $2, $3, $4) ON CONFLICT (sha256) DO NOTHING`,
			sum[:], peer, size, path)
		if err != nil {
			return fmt.Errorf("pkgstore: record package: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return nil
		}
		return s.audit.AppendTx(ctx, tx, audit.Entry{Actor: "peer:" + peer, Action: "transfer.receive", Target: hex.EncodeToString(sum[:]),
			Detail: fmt.Sprintf("%d bytes", size)})
	})
}

// List returns the packages, newest first.
func (s *Store) List(ctx context.Context) ([]Package, error) {
	rows, err := s.pool.Query(ctx, `SELECT sha256, size, state, peer, received_at FROM packages ORDER BY received_at DESC, sha256`)
	if err != nil {
		return nil, fmt.Errorf("pkgstore: list: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Package, error) {
		var p Package
		var sum []byte
		err := r.Scan(&sum, &p.Size, &p.State, &p.Peer, &p.ReceivedAt)
		p.ID = hex.EncodeToString(sum)
		p.SHA256 = p.ID
		return p, err
	})
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
		if err := s.Stored(ctx, "unknown (recovered at start)", sum, fi.Size(), f); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
