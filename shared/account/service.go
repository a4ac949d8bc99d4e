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

// Sentinel errors of sign-in.
var (
	// ErrBadCredentials covers an unknown user, a wrong password, a disabled
	// and a locked account alike, so the answer reveals nothing.
	ErrBadCredentials = errors.New("account: invalid user name or password, or the account is locked")
	ErrBadCode        = errors.New("account: invalid or already used code")
	// ErrBadCurrentCode refuses a TOTP re-enrolment without the right
	// current code; it is also an ErrBadCode.
	ErrBadCurrentCode = fmt.Errorf("%w: the current second factor", ErrBadCode)
	// ErrLocked comes joined to ErrBadCredentials or ErrBadCode from the
	// steps a session takes when the account is (now) locked, so the page
	// can end a half-finished sign-in. Login never says it.
	ErrLocked = errors.New("account: locked after repeated failures")
)

// lockedErr is base that also says the account is locked.
func lockedErr(base error) error { return fmt.Errorf("%w; %w", base, ErrLocked) }

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
	// PasswordCost of new hashes; zero: DefaultPasswordCost (tests of
	// what surrounds the hash use TestPasswordCost).
	PasswordCost PasswordCost
}

// NewService returns the account service over pool.
func NewService(ctx context.Context, pool *pgxpool.Pool, cfg Config) (*Service, error) {
	pii, err := NewPII(cfg.PIIKey)
	if err != nil {
		return nil, err
	}
	h := NewHasher(2, cfg.PasswordCost)
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
// attempt is counted before the password is checked, in the statement that
// checks the lock, and a right password only takes its count back: the
// count resets when the whole sign-in succeeds ([Service.Advance]), so a
// known password buys no further second-factor guesses.
func (s *Service) Login(ctx context.Context, username, password, remote string) (*User, error) {
	username = CleanUsername(username) // before anything is looked up or recorded
	anon := Actor{Name: "-", Remote: remote}
	u, hash, err := s.byName(ctx, username)
	if errors.Is(err, ErrNoUser) {
		s.hasher.Verify(ctx, s.dummy, password) // same cost as a real check
		return nil, s.denied(ctx, anon, username, "unknown user")
	}
	if err != nil {
		return nil, err
	}
	at, err := s.reserve(ctx, u)
	if errors.Is(err, errNoAttempt) {
		s.hasher.Verify(ctx, hash, password) // same cost, result unused
		why := "account locked"
		if u.Disabled {
			why = "account disabled"
		}
		return nil, s.denied(ctx, anon, username, why)
	}
	if err != nil {
		return nil, err
	}
	verr := s.hasher.Verify(ctx, hash, password)
	switch {
	case errors.Is(verr, ErrMismatch):
		if err := s.failed(ctx, anon, u, at, "login", "wrong password"); err != nil {
			return nil, err
		}
		return nil, ErrBadCredentials
	case verr != nil: // no check happened (the request gave up waiting)
		return nil, errors.Join(verr, s.refund(ctx, at))
	}
	ctx = context.WithoutCancel(ctx) // the password was right: do not leave it counted
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := s.refundTx(ctx, tx, at); err != nil {
			return err
		}
		return s.record(ctx, tx, Actor{Name: u.Username, Remote: remote}, "login", u.Username, audit.OK, "password accepted")
	})
	if err != nil {
		return nil, fmt.Errorf("account: record login: %w", err)
	}
	return u, nil
}

func (s *Service) denied(ctx context.Context, a Actor, target, detail string) error {
	if err := s.audit.Append(ctx, audit.Entry{Actor: a.Name, Action: "login", Target: target, Outcome: audit.Denied, Remote: a.Remote, Detail: detail}); err != nil {
		return fmt.Errorf("account: record failed login: %w", err)
	}
	return ErrBadCredentials
}

// ChangePassword sets a new password after checking the current one and
// the policy, and ends the user's other sessions. A wrong current password
// counts toward the lockout like any sign-in step.
func (s *Service) ChangePassword(ctx context.Context, a Actor, userID int64, current, next string, keepSession []byte) error {
	u, hash, err := s.byID(ctx, userID)
	if err != nil {
		return err
	}
	at, err := s.reserve(ctx, u)
	if errors.Is(err, errNoAttempt) {
		s.audit.Append(ctx, audit.Entry{Actor: a.Name, Action: "password.change", Target: u.Username, Outcome: audit.Denied, Remote: a.Remote, Detail: "account locked"})
		return lockedErr(ErrBadCredentials)
	}
	if err != nil {
		return err
	}
	if verr := s.hasher.Verify(ctx, hash, current); verr != nil {
		if !errors.Is(verr, ErrMismatch) {
			return errors.Join(verr, s.refund(ctx, at))
		}
		if err := s.failed(ctx, a, u, at, "password.change", "current password wrong"); err != nil {
			return err
		}
		if at.locked {
			return lockedErr(ErrBadCredentials)
		}
		return ErrBadCredentials
	}
	if err := s.refund(ctx, at); err != nil {
		return err
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
