package account

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"sealgate/shared/audit"
)

// Lockout policy.
const (
	MaxFailures = 5                // failed sign-in steps, across all steps, before lockout
	LockFor     = 15 * time.Minute // timed release; an admin may unlock sooner
)

// MaxUsernameInput caps a user name as typed before it is looked up,
// rate limited or recorded: real names are at most 32 bytes, and the
// audit log must not take a megabyte from an unauthenticated client.
const MaxUsernameInput = 64

// CleanUsername is the form of a typed user name that sign-in uses and
// records: control and format characters (NUL, newlines, bidi overrides)
// removed, invalid UTF-8 replaced, cut to MaxUsernameInput bytes on a
// character boundary.
func CleanUsername(name string) string {
	if len(name) > 4*MaxUsernameInput { // spare the scan of a huge input
		name = name[:4*MaxUsernameInput]
	}
	name = strings.ToValidUTF8(name, "\uFFFD")
	var b strings.Builder
	for _, r := range name {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			continue
		}
		if b.Len()+utf8.RuneLen(r) > MaxUsernameInput {
			break
		}
		b.WriteRune(r)
	}
	return b.String()
}

// errNoAttempt refuses an attempt on a locked or disabled account before
// its guess is looked at.
var errNoAttempt = errors.New("account: locked or disabled")

// attempt is one sign-in step counted in advance as a failure. Counting
// before the guess is checked, in the same statement that checks the lock,
// is what keeps parallel guesses from evaluating more than MaxFailures.
type attempt struct {
	userID int64
	n      int  // failed_logins including this attempt
	locked bool // this attempt set the lock
}

// reserve counts one attempt for u, unless the account is locked or
// disabled (errNoAttempt). A lock that has run out starts the count anew.
func (s *Service) reserve(ctx context.Context, u *User) (*attempt, error) {
	now := s.now()
	at := &attempt{userID: u.ID}
	err := s.pool.QueryRow(ctx, `
		UPDATE users SET
		       failed_logins = CASE WHEN locked_until IS NULL THEN failed_logins ELSE 0 END + 1,
		       locked_until = CASE WHEN CASE WHEN locked_until IS NULL THEN failed_logins ELSE 0 END + 1 >= $2
		                           THEN $3::timestamptz END
		WHERE id = $1 AND NOT disabled AND (locked_until IS NULL OR locked_until <= $4)
		RETURNING failed_logins`, u.ID, MaxFailures, now.Add(LockFor), now).Scan(&at.n)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errNoAttempt
	}
	if err != nil {
		return nil, fmt.Errorf("account: count attempt: %w", err)
	}
	at.locked = at.n >= MaxFailures
	return at, nil
}

// refundTx takes back an attempt that succeeded: it was no failure. The
// count is reset only once the whole sign-in succeeds (Advance to StageOK).
func (s *Service) refundTx(ctx context.Context, tx pgx.Tx, at *attempt) error {
	_, err := tx.Exec(ctx, `
		UPDATE users SET failed_logins = greatest(failed_logins - 1, 0),
		       locked_until = CASE WHEN $2 THEN NULL ELSE locked_until END
		WHERE id = $1`, at.userID, at.locked)
	if err != nil {
		return fmt.Errorf("account: refund attempt: %w", err)
	}
	return nil
}

// refund is refundTx in its own transaction, for a step that changes
// nothing else.
func (s *Service) refund(ctx context.Context, at *attempt) error {
	ctx = context.WithoutCancel(ctx) // a client gone is no failure either
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { return s.refundTx(ctx, tx, at) })
}

// failed records a failed step whose attempt stays counted. When it locked
// the account, half-finished sign-ins of the user end too, so a session
// left at the TOTP challenge cannot guess again once the lock runs out.
// It runs even if the client has gone: the count is already in.
func (s *Service) failed(ctx context.Context, a Actor, u *User, at *attempt, action, why string) error {
	ctx = context.WithoutCancel(ctx)
	detail := fmt.Sprintf("%s (%d of %d)", why, at.n, MaxFailures)
	if at.locked {
		detail += "; locked until " + s.now().Add(LockFor).Format(time.RFC3339)
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if at.locked {
			if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1 AND stage <> $2`, u.ID, StageOK); err != nil {
				return err
			}
		}
		return s.record(ctx, tx, a, action, u.Username, audit.Denied, detail)
	})
	if err != nil {
		return fmt.Errorf("account: record failure: %w", err)
	}
	return nil
}

// resetFailuresTx clears the count and the lock: the user has finished
// signing in.
func resetFailuresTx(ctx context.Context, tx pgx.Tx, userID int64) error {
	if _, err := tx.Exec(ctx, `UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1`, userID); err != nil {
		return fmt.Errorf("account: reset failures: %w", err)
	}
	return nil
}
