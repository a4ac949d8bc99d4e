package pkgstore

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"sealgate/transfer"
)

// Fate says what became of package sum, for the inner's status query
// (transfer/receive.Records): the peer that delivered it, and its state.
// A destroyed package's reply carries the time, a reason code and the
// SHA-256 of the reason text, which stays here; a package not on record is
// StateUnknown with no peer.
func (s *Store) Fate(ctx context.Context, sum [32]byte) (string, transfer.StatusReply, error) {
	var (
		peer, state, by, why string
		at                   *time.Time
	)
	err := s.pool.QueryRow(ctx, `SELECT peer, state, destroyed_at, destroyed_by, destroyed_reason FROM packages WHERE sha256 = $1`,
		sum[:]).Scan(&peer, &state, &at, &by, &why)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", transfer.StatusReply{State: transfer.StateUnknown, SHA256: sum}, nil
	}
	if err != nil {
		return "", transfer.StatusReply{}, fmt.Errorf("pkgstore: the state of a package: %w", err)
	}
	rep := transfer.StatusReply{State: transfer.StateHeld, SHA256: sum}
	if state == "destroyed" && at != nil {
		rep.State, rep.Reason = transfer.StateDestroyed, DestroyReason(by, why)
		rep.DestroyedAt = at.UTC().Truncate(time.Second)
		if rep.DestroyedAt.Unix() <= 0 { // the wire has no destruction at or before 1970
			rep.DestroyedAt = time.Unix(1, 0).UTC()
		}
		rep.ReasonSHA256 = sha256.Sum256([]byte(why))
	}
	return peer, rep, nil
}

// DestroyReason is the reason code of a destruction recorded by by with
// the text why, as outer/expiry writes them: the sweeper as "system" with
// "viewing period ended …", an admin's revocation as "revoked: …".
func DestroyReason(by, why string) transfer.DestroyReason {
	switch {
	case by == "system" && strings.HasPrefix(why, "viewing period ended"):
		return transfer.DestroyExpired
	case strings.HasPrefix(why, "revoked: "):
		return transfer.DestroyRevoked
	}
	return transfer.DestroyOther
}
