package account

import (
	"context"
	"fmt"
)

// LockedUsers counts the accounts locked out now by failed sign-in steps
// (MaxFailures, for LockFor or until an admin unlocks them): what the
// monitoring of a security team alerts on (docs/monitoring.md).
func (s *Service) LockedUsers(ctx context.Context) (int64, error) {
	var n int64
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM users WHERE locked_until > $1`, s.now()).Scan(&n); err != nil {
		return 0, fmt.Errorf("account: count locked users: %w", err)
	}
	return n, nil
}
