package pkgstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Sort orders of the catalog.
const (
	ByArrival  = "arrival"   // newest arrival first (the default)
	ByFootage  = "footage"   // newest footage first
	ByDaysLeft = "days_left" // the window that ends soonest first
)

// Query narrows and orders an officer's catalog.
type Query struct {
	// Search matches the export code, the camera's name or its location,
	// ignoring case, anywhere in them.
	Search string
	Sort   string // ByArrival, ByFootage or ByDaysLeft; anything else is ByArrival
}

// catalogOrders are the ORDER BY clauses of each sort, fixed strings so
// that no request text reaches the SQL.
var catalogOrders = map[string]string{
	ByArrival:  `received_at DESC, sha256`,
	ByFootage:  `time_from DESC NULLS LAST, received_at DESC, sha256`,
	ByDaysLeft: `(state = 'destroyed'), view_until ASC NULLS LAST, received_at DESC, sha256`,
}

// Catalog lists the packages addressed to recipient (an officer's account
// name) whose viewing window has begun by now, destroyed ones included
// (the officer sees when and why): the same rule as [Store.ForRecipient],
// so the list never names a package its page would answer 404 for.
func (s *Store) Catalog(ctx context.Context, recipient string, q Query, now time.Time) ([]Package, error) {
	if recipient == "" {
		return nil, nil
	}
	order, ok := catalogOrders[q.Sort]
	if !ok {
		order = catalogOrders[ByArrival]
	}
	rows, err := s.pool.Query(ctx, `SELECT `+packageColumns+` FROM packages
		WHERE recipient = $1 AND (view_from IS NULL OR view_from <= $2)
		  AND ($3 = '' OR export_code ILIKE $3 ESCAPE '\' OR camera_name ILIKE $3 ESCAPE '\' OR camera_location ILIKE $3 ESCAPE '\')
		ORDER BY `+order, recipient, now, likePattern(q.Search))
	if err != nil {
		return nil, fmt.Errorf("pkgstore: catalog: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Package, error) { return scanPackage(r) })
}

// likePattern is a substring match of s for ILIKE, its own % and _ taken
// literally; "" for an empty search.
func likePattern(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	return "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s) + "%"
}

// PeerStats is what the store holds from one inner appliance.
type PeerStats struct {
	Peer        string
	Arrivals    int64     // packages ever received
	Held        int64     // available now
	Destroyed   int64     // destroyed (expired or revoked)
	HeldBytes   int64     // bytes of the packages held
	LastArrival time.Time // the latest arrival
}

// Peers sums the store by the inner appliance each package came from.
func (s *Store) Peers(ctx context.Context) ([]PeerStats, error) {
	rows, err := s.pool.Query(ctx, `SELECT peer, count(*), count(*) FILTER (WHERE state = 'available'),
			count(*) FILTER (WHERE state = 'destroyed'), coalesce(sum(size) FILTER (WHERE state = 'available'), 0), max(received_at)
		FROM packages GROUP BY peer ORDER BY peer`)
	if err != nil {
		return nil, fmt.Errorf("pkgstore: peers: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (PeerStats, error) {
		var p PeerStats
		err := r.Scan(&p.Peer, &p.Arrivals, &p.Held, &p.Destroyed, &p.HeldBytes, &p.LastArrival)
		return p, err
	})
}

// StateStats is the count and bytes of the packages in one state (the
// bytes of destroyed packages are what they held before).
type StateStats struct {
	State    string
	Packages int64
	Bytes    int64
}

// States sums the store by state; both states are always present.
func (s *Store) States(ctx context.Context) ([]StateStats, error) {
	rows, err := s.pool.Query(ctx, `SELECT st, count(p.sha256), coalesce(sum(p.size), 0)
		FROM unnest(ARRAY['available', 'destroyed']) AS st LEFT JOIN packages p ON p.state = st GROUP BY st ORDER BY st`)
	if err != nil {
		return nil, fmt.Errorf("pkgstore: states: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (StateStats, error) {
		var st StateStats
		err := r.Scan(&st.State, &st.Packages, &st.Bytes)
		return st, err
	})
}

// Recent returns the latest n arrivals, newest first.
func (s *Store) Recent(ctx context.Context, n int) ([]Package, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+packageColumns+` FROM packages ORDER BY received_at DESC, sha256 LIMIT $1`, n)
	if err != nil {
		return nil, fmt.Errorf("pkgstore: recent arrivals: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Package, error) { return scanPackage(r) })
}
