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
// ten one-time recovery codes, to be shown once. When TOTP is already on
// (re-enrolment), current must be a present TOTP or recovery code, checked
// and counted like a sign-in step: a borrowed session cannot swap the
// second factor for one its holder controls.
func (s *Service) ConfirmTOTP(ctx context.Context, a Actor, u *User, code, current string) ([]string, error) {
	var pending []byte
	var enabled bool
	if err := s.pool.QueryRow(ctx, `SELECT totp_pending, totp_secret IS NOT NULL FROM users WHERE id = $1`, u.ID).Scan(&pending, &enabled); err != nil || pending == nil {
		return nil, ErrBadCode
	}
	secret, err := s.pii.Open("totp", u.Username, pending)
	if err != nil {
		return nil, err
	}
	// The new code guesses nothing (the page shows its secret), so it is
	// not counted; it is checked first so a typo does not spend the current code.
	step, ok := checkTOTP(secret, code, s.now(), 0)
	if !ok {
		s.audit.Append(ctx, audit.Entry{Actor: a.Name, Action: "totp.enroll", Target: u.Username, Outcome: audit.Denied, Remote: a.Remote, Detail: "wrong code"})
		return nil, ErrBadCode
	}
	var at *attempt
	if enabled {
		if at, err = s.reserve(ctx, u); errors.Is(err, errNoAttempt) {
			return nil, lockedErr(ErrBadCurrentCode)
		} else if err != nil {
			return nil, err
		}
	}
	codes, hashes := newRecoveryCodes(10)
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var on bool
		if err := tx.QueryRow(ctx, `SELECT totp_secret IS NOT NULL FROM users WHERE id = $1 FOR UPDATE`, u.ID).Scan(&on); err != nil {
			return err
		}
		detail := ""
		switch {
		case on && at == nil: // turned on by another request since: ask again
			return ErrBadCurrentCode
		case at != nil:
			if _, err := s.useSecondFactorTx(ctx, tx, u, current); err != nil {
				return err
			}
			if err := s.refundTx(ctx, tx, at); err != nil {
				return err
			}
			detail = "replaced the previous secret"
		}
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
		return s.record(ctx, tx, a, "totp.enroll", u.Username, "ok", detail)
	})
	switch {
	case errors.Is(err, errBadSecondFactor):
		if err := s.failed(ctx, a, u, at, "totp.enroll", "current code wrong or reused"); err != nil {
			return nil, err
		}
		if at.locked {
			return nil, lockedErr(ErrBadCurrentCode)
		}
		return nil, ErrBadCurrentCode
	case errors.Is(err, ErrBadCurrentCode):
		return nil, err
	case err != nil:
		if at != nil {
			err = errors.Join(err, s.refund(ctx, at))
		}
		return nil, fmt.Errorf("account: enable totp: %w", err)
	}
	return codes, nil
}

// VerifySecondFactor accepts a current TOTP code (each works once) or an
// unused recovery code. Each try is counted before the code is looked at,
// in the statement that checks the lock, so parallel guesses cannot get
// past MaxFailures; a right code takes its count back.
func (s *Service) VerifySecondFactor(ctx context.Context, a Actor, u *User, code string) error {
	at, err := s.reserve(ctx, u)
	if errors.Is(err, errNoAttempt) {
		s.audit.Append(ctx, audit.Entry{Actor: a.Name, Action: "login.totp", Target: u.Username, Outcome: audit.Denied, Remote: a.Remote, Detail: "account locked or disabled"})
		return lockedErr(ErrBadCode) // locked while at the challenge: no more guesses
	}
	if err != nil {
		return err
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		action, err := s.useSecondFactorTx(ctx, tx, u, code)
		if err != nil {
			return err
		}
		if err := s.refundTx(ctx, tx, at); err != nil {
			return err
		}
		return s.record(ctx, tx, a, action, u.Username, "ok", "")
	})
	switch {
	case errors.Is(err, errBadSecondFactor):
		if err := s.failed(ctx, a, u, at, "login.totp", "wrong or reused code"); err != nil {
			return err
		}
		if at.locked {
			return lockedErr(ErrBadCode)
		}
		return ErrBadCode
	case err != nil:
		return errors.Join(err, s.refund(ctx, at))
	}
	return nil
}

// useSecondFactorTx spends a current TOTP code or an unused recovery code
// of u inside tx and names which it was, for the audit log. The user's row
// is locked first, so a code works once even when two requests race with it.
func (s *Service) useSecondFactorTx(ctx context.Context, tx pgx.Tx, u *User, code string) (string, error) {
	var sealed []byte
	var last int64
	if err := tx.QueryRow(ctx, `SELECT totp_secret, totp_last_step FROM users WHERE id = $1 FOR UPDATE`, u.ID).Scan(&sealed, &last); err != nil {
		return "", fmt.Errorf("account: read totp: %w", err)
	}
	if sealed == nil {
		return "", errBadSecondFactor
	}
	secret, err := s.pii.Open("totp", u.Username, sealed)
	if err != nil {
		return "", err
	}
	if step, ok := checkTOTP(secret, code, s.now(), last); ok {
		if _, err := tx.Exec(ctx, `UPDATE users SET totp_last_step = $2 WHERE id = $1`, u.ID, step); err != nil {
			return "", fmt.Errorf("account: spend totp step: %w", err)
		}
		return "login.totp", nil
	}
	tag, err := tx.Exec(ctx, `UPDATE recovery_codes SET used_at = now() WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL`, u.ID, hashRecovery(code))
	if err != nil {
		return "", fmt.Errorf("account: spend recovery code: %w", err)
	}
	if tag.RowsAffected() == 1 {
		return "login.recovery_code", nil
	}
	return "", errBadSecondFactor
}

var errBadSecondFactor = errors.New("second factor refused")
