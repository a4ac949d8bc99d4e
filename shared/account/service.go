package account

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"sealgate/shared/audit"
)

// Lockout policy.
const (
	MaxFailures = 5                // consecutive wrong passwords before lockout
	LockFor     = 15 * time.Minute // timed release; an admin may unlock sooner
)

// Sentinel errors of sign-in.
var (
	// ErrBadCredentials covers an unknown user, a wrong password, a disabled
	// and a locked account alike, so the answer reveals nothing.
	ErrBadCredentials = errors.New("account: invalid user name or password, or the account is locked")
	ErrBadCode        = errors.New("account: invalid or already used code")
)

// Service is the account logic of one daemon: sign-in with lockout,
// password changes, TOTP, recovery codes and user administration, each
// recorded in the audit log in the same transaction as the change.
type Service struct {
	pool   *pgxpool.Pool
	hasher *Hasher
	pii    *PII
	audit  *audit.Log
	issuer string   // TOTP issuer, e.g. "Sealgate inner"
	roles  []string // roles this daemon has
	// TOTPRoles must enrol TOTP before using the daemon.
	totpRoles []string
	now       func() time.Time
	dummy     string // hash verified for unknown users, for constant time
}

// Config configures a Service.
type Config struct {
	Issuer    string
	Roles     []string
	TOTPRoles []string
	PIIKey    []byte
	Audit     *audit.Log
}

// NewService returns the account service over pool.
func NewService(ctx context.Context, pool *pgxpool.Pool, cfg Config) (*Service, error) {
	pii, err := NewPII(cfg.PIIKey)
	if err != nil {
		return nil, err
	}
	h := NewHasher(2)
	dummy, err := h.Hash(ctx, GeneratePassword())
	if err != nil {
		return nil, err
	}
	return &Service{pool: pool, hasher: h, pii: pii, audit: cfg.Audit, issuer: cfg.Issuer, roles: cfg.Roles,
		totpRoles: cfg.TOTPRoles, now: time.Now, dummy: dummy}, nil
}

// Roles are the roles this daemon knows.
func (s *Service) Roles() []string { return s.roles }

// NeedsTOTP says whether role must use TOTP.
func (s *Service) NeedsTOTP(role string) bool { return slices.Contains(s.totpRoles, role) }

// Actor names who acts, for the audit log.
type Actor struct {
	Name   string
	Remote string
}

func (s *Service) record(ctx context.Context, tx pgx.Tx, a Actor, action, target, outcome, detail string) error {
	return s.audit.AppendTx(ctx, tx, audit.Entry{Actor: a.Name, Action: action, Target: target, Outcome: outcome, Remote: a.Remote, Detail: detail})
}

// Login checks a password. Unknown users, wrong passwords, disabled and
// locked accounts all take the same time and give ErrBadCredentials. The
// fifth consecutive failure locks the account for LockFor.
func (s *Service) Login(ctx context.Context, username, password, remote string) (*User, error) {
	u, hash, err := s.byName(ctx, username)
	if errors.Is(err, ErrNoUser) {
		s.hasher.Verify(ctx, s.dummy, password) // same cost as a real check
		return nil, s.denied(ctx, Actor{Name: "-", Remote: remote}, username, "unknown user")
	}
	if err != nil {
		return nil, err
	}
	verr := s.hasher.Verify(ctx, hash, password)
	now := s.now()
	switch {
	case u.Disabled:
		return nil, s.denied(ctx, Actor{Name: "-", Remote: remote}, username, "account disabled")
	case u.LockedUntil.After(now):
		return nil, s.denied(ctx, Actor{Name: "-", Remote: remote}, username, "account locked")
	case errors.Is(verr, ErrMismatch):
		if err := s.countFailure(ctx, Actor{Name: "-", Remote: remote}, u, "login", "wrong password"); err != nil {
			return nil, err
		}
		return nil, ErrBadCredentials
	case verr != nil:
		return nil, verr
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1`, u.ID); err != nil {
			return err
		}
		return s.record(ctx, tx, Actor{Name: u.Username, Remote: remote}, "login", u.Username, audit.OK, "password accepted")
	})
	if err != nil {
		return nil, fmt.Errorf("account: record login: %w", err)
	}
	return u, nil
}

// countFailure records a failed sign-in step and locks the account at the
// MaxFailures-th consecutive one.
func (s *Service) countFailure(ctx context.Context, a Actor, u *User, action, why string) error {
	now := s.now()
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var failures int
		if err := tx.QueryRow(ctx, `
			UPDATE users SET failed_logins = failed_logins + 1,
			       locked_until = CASE WHEN failed_logins + 1 >= $2 THEN $3::timestamptz ELSE locked_until END
			WHERE id = $1 RETURNING failed_logins`, u.ID, MaxFailures, now.Add(LockFor)).Scan(&failures); err != nil {
			return fmt.Errorf("account: count failure: %w", err)
		}
		detail := fmt.Sprintf("%s (%d of %d)", why, failures, MaxFailures)
		if failures >= MaxFailures {
			detail += "; locked until " + now.Add(LockFor).Format(time.RFC3339)
		}
		return s.record(ctx, tx, a, action, u.Username, audit.Denied, detail)
	})
}

func (s *Service) denied(ctx context.Context, a Actor, target, detail string) error {
	if err := s.audit.Append(ctx, audit.Entry{Actor: a.Name, Action: "login", Target: target, Outcome: audit.Denied, Remote: a.Remote, Detail: detail}); err != nil {
		return fmt.Errorf("account: record failed login: %w", err)
	}
	return ErrBadCredentials
}

// ChangePassword sets a new password after checking the current one and
// the policy, and ends the user's other sessions.
func (s *Service) ChangePassword(ctx context.Context, a Actor, userID int64, current, next string, keepSession []byte) error {
	u, hash, err := s.byID(ctx, userID)
	if err != nil {
		return err
	}
	if err := s.hasher.Verify(ctx, hash, current); err != nil {
		s.audit.Append(ctx, audit.Entry{Actor: a.Name, Action: "password.change", Target: u.Username, Outcome: audit.Denied, Remote: a.Remote, Detail: "current password wrong"})
		return ErrBadCredentials
	}
	if next == current {
		return &PolicyError{"pw.same"}
	}
	if err := CheckPassword(next, u.Username, u.FullName, u.Affiliation); err != nil {
		return err
	}
	newHash, err := s.hasher.Hash(ctx, next)
	if err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE users SET password_hash = $2, must_change_password = false, password_changed_at = now() WHERE id = $1`, u.ID, newHash); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1 AND id_hash <> $2`, u.ID, keepSession); err != nil {
			return err
		}
		return s.record(ctx, tx, a, "password.change", u.Username, audit.OK, "")
	})
}
