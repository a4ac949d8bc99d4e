package pkgstore

import (
	"context"
	"fmt"
	"time"
)

// Overdue counts the packages still available at now although their
// viewing window ended, and gives when the earliest of them ended (zero
// when there is none): the expiry destroyer's backlog, which must be empty
// a minute after any window ends (docs/monitoring.md).
func (s *Store) Overdue(ctx context.Context, now time.Time) (int64, time.Time, error) {
	var n int64
	var first *time.Time
	err := s.pool.QueryRow(ctx, `SELECT count(*), min(view_until) FROM packages WHERE state = 'available' AND view_until <= $1`, now).
		Scan(&n, &first)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("pkgstore: overdue packages: %w", err)
	}
	if first == nil {
		return n, time.Time{}, nil
	}
	return n, *first, nil
}
