package pkgstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
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
// StateUnknown with no peer. Either way a known package's reply carries
// its use: the first download or play, the downloads and the plays.
func (s *Store) Fate(ctx context.Context, sum [32]byte) (string, transfer.StatusReply, error) {
	var (
		peer, state, by, why string
		at, viewed           *time.Time
		downloads, plays     int64
	)
	err := s.pool.QueryRow(ctx, `SELECT p.peer, p.state, p.destroyed_at, p.destroyed_by, p.destroyed_reason, p.downloads,
			least(p.first_download_at, pl.first), coalesce(pl.n, 0)
		FROM packages p LEFT JOIN LATERAL (SELECT min(released_at) AS first, count(*) AS n FROM plays WHERE package = p.sha256) pl ON true
		WHERE p.sha256 = $1`,
		sum[:]).Scan(&peer, &state, &at, &by, &why, &downloads, &viewed, &plays)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", transfer.StatusReply{State: transfer.StateUnknown, SHA256: sum}, nil
	}
	if err != nil {
		return "", transfer.StatusReply{}, fmt.Errorf("pkgstore: the state of a package: %w", err)
	}
	rep := transfer.StatusReply{State: transfer.StateHeld, SHA256: sum, Use: use(viewed, downloads, plays)}
	if state == "destroyed" && at != nil {
		rep.State, rep.Reason = transfer.StateDestroyed, DestroyReason(by, why)
		rep.DestroyedAt = at.UTC().Truncate(time.Second)
		if rep.DestroyedAt.Unix() <= 0 { // the wire has no destruction at or before 1970
			rep.DestroyedAt = time.Unix(1, 0).UTC()
		}
		rep.ReasonSHA256 = sha256.Sum256([]byte(why))
		if rep.FirstViewed.After(rep.DestroyedAt) { // whole seconds both: a view in the destruction's second
			rep.FirstViewed = rep.DestroyedAt
		}
	}
	return peer, rep, nil
}

// use is the reply's use of a package, in whole seconds, within what the
// wire carries; counts with no first view are none (a play row cannot be
// without its time, but the reply must never be malformed).
func use(viewed *time.Time, downloads, plays int64) transfer.Use {
	if viewed == nil {
		return transfer.Use{}
	}
	u := transfer.Use{FirstViewed: viewed.UTC().Truncate(time.Second),
		Downloads: uint32(min(downloads, transfer.MaxUses)), Plays: uint32(min(plays, transfer.MaxUses))}
	if u.FirstViewed.Unix() <= 0 {
		u.FirstViewed = time.Unix(1, 0).UTC()
	}
	return u
}

// Downloaded counts a download of package id (its hex SHA-256) that
// began at its first byte at at (a resumed download, a Range further on,
// is the same one).
func (s *Store) Downloaded(ctx context.Context, id string, at time.Time) error {
	sum, err := hex.DecodeString(id)
	if err != nil || len(sum) != 32 {
		return fmt.Errorf("%w: %q", ErrNotFound, id)
	}
	if _, err := s.pool.Exec(ctx, `UPDATE packages SET downloads = downloads + 1, first_download_at = coalesce(first_download_at, $2)
		WHERE sha256 = $1`, sum, at); err != nil {
		return fmt.Errorf("pkgstore: count a download: %w", err)
	}
	return nil
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
