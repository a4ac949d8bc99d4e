package account

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"sealgate/shared/audit"
)

// BeginTOTP makes a new secret for u and keeps it pending until confirmed.
func (s *Service) BeginTOTP(ctx context.Context, u *User) (*Enrollment, error) {
	e, err := NewEnrollment(s.issuer, u.Username)
	if err != nil {
		return nil, err
	}
	if _, err := s.pool.Exec(ctx, `UPDATE users SET totp_pending = $2 WHERE id = $1`, u.ID, s.pii.Seal("totp", u.Username, e.Secret)); err != nil {
		return nil, fmt.Errorf("account: store totp secret: %w", err)
	}
	return e, nil
}

// PendingTOTP returns the enrolment in progress, so a reloaded page shows
// the same secret.
func (s *Service) PendingTOTP(ctx context.Context, u *User) (*Enrollment, error) {
	var sealed []byte
	if err := s.pool.QueryRow(ctx, `SELECT totp_pending FROM users WHERE id = $1`, u.ID).Scan(&sealed); err != nil {
		return nil, fmt.Errorf("account: %w", err)
	}
	if sealed == nil {
		return s.BeginTOTP(ctx, u)
	}
	secret, err := s.pii.Open("totp", u.Username, sealed)
	if err != nil {
		return nil, err
	}
	return newEnrollment(s.issuer, u.Username, secret)
}

// ConfirmTOTP turns the pending secret on when code matches it, and returns
// ten one-time recovery codes, to be shown once.
func (s *Service) ConfirmTOTP(ctx context.Context, a Actor, u *User, code string) ([]string, error) {
	var sealed []byte
	if err := s.pool.QueryRow(ctx, `SELECT totp_pending FROM users WHERE id = $1`, u.ID).Scan(&sealed); err != nil || sealed == nil {
		return nil, ErrBadCode
	}
	secret, err := s.pii.Open("totp", u.Username, sealed)
	if err != nil {
		return nil, err
	}
	step, ok := checkTOTP(secret, code, s.now(), 0)
	if !ok {
		s.audit.Append(ctx, audit.Entry{Actor: a.Name, Action: "totp.enroll", Target: u.Username, Outcome: audit.Denied, Remote: a.Remote, Detail: "wrong code"})
		return nil, ErrBadCode
	}
	codes, hashes := newRecoveryCodes(10)
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE users SET totp_secret = totp_pending, totp_pending = NULL, totp_last_step = $2 WHERE id = $1`, u.ID, step); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM recovery_codes WHERE user_id = $1`, u.ID); err != nil {
			return err
		}
		for _, h := range hashes {
			if _, err := tx.Exec(ctx, `INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)`, u.ID, h); err != nil {
				return err
			}
		}
		return s.record(ctx, tx, a, "totp.enroll", u.Username, "ok", "")
	})
	if err != nil {
		return nil, fmt.Errorf("account: enable totp: %w", err)
	}
	return codes, nil
}

// VerifySecondFactor accepts a current TOTP code (each works once) or an
// unused recovery code. Failures count toward the lockout like passwords.
func (s *Service) VerifySecondFactor(ctx context.Context, a Actor, u *User, code string) error {
	if fresh, err := s.User(ctx, u.ID); err != nil || fresh.Locked(s.now()) || fresh.Disabled {
		return ErrBadCode // locked while at the challenge: no more guesses
	}
	var sealed []byte
	var last int64
	if err := s.pool.QueryRow(ctx, `SELECT totp_secret, totp_last_step FROM users WHERE id = $1`, u.ID).Scan(&sealed, &last); err != nil || sealed == nil {
		return ErrBadCode
	}
	secret, err := s.pii.Open("totp", u.Username, sealed)
	if err != nil {
		return err
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if step, ok := checkTOTP(secret, code, s.now(), last); ok {
			// The conditional update makes a code work once even when two
			// requests race with it.
			tag, err := tx.Exec(ctx, `UPDATE users SET totp_last_step = $2, failed_logins = 0 WHERE id = $1 AND totp_last_step < $2`, u.ID, step)
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 1 {
				return s.record(ctx, tx, a, "login.totp", u.Username, "ok", "")
			}
		}
		tag, err := tx.Exec(ctx, `UPDATE recovery_codes SET used_at = now() WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL`, u.ID, hashRecovery(code))
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 1 {
			return s.record(ctx, tx, a, "login.recovery_code", u.Username, "ok", "")
		}
		return errBadSecondFactor
	})
	if errors.Is(err, errBadSecondFactor) {
		if err := s.countFailure(ctx, a, u, "login.totp", "wrong or reused code"); err != nil {
			return err
		}
		return ErrBadCode
	}
	return err
}

var errBadSecondFactor = errors.New("second factor refused")
