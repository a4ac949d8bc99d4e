package account

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Sentinel errors of the users table.
var (
	ErrNoUser      = errors.New("account: no such user")
	ErrUserExists  = errors.New("account: user already exists")
	ErrBadUsername = errors.New("account: username must be 3–32 characters: a–z, 0–9, '.', '_' or '-', starting with a letter or digit")
	ErrBadRole     = errors.New("account: role not allowed on this daemon")
	ErrLastAdmin   = errors.New("account: refusing to disable or demote the last enabled admin")
)

var usernameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{2,31}$`)

// User is an account, its personal data decrypted.
type User struct {
	ID                 int64
	Username           string
	Role               string
	MustChangePassword bool
	Disabled           bool
	CreatedAt          time.Time
	LockedUntil        time.Time
	FailedLogins       int
	TOTPEnabled        bool
	FullName           string
	Phone              string
	Affiliation        string
}

// Locked reports a lockout in force at now.
func (u *User) Locked(now time.Time) bool { return u.LockedUntil.After(now) }

const userColumns = `id, username, role, must_change_password, disabled, created_at, coalesce(locked_until, 'epoch'),
	failed_logins, totp_secret IS NOT NULL, full_name, phone, affiliation, password_hash`

func (s *Service) scanUser(row pgx.Row) (*User, string, error) {
	var u User
	var name, phone, aff []byte
	var hash string
	err := row.Scan(&u.ID, &u.Username, &u.Role, &u.MustChangePassword, &u.Disabled, &u.CreatedAt, &u.LockedUntil,
		&u.FailedLogins, &u.TOTPEnabled, &name, &phone, &aff, &hash)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, "", ErrNoUser
	}
	if err != nil {
		return nil, "", fmt.Errorf("account: read user: %w", err)
	}
	for _, f := range []struct {
		col string
		src []byte
		dst *string
	}{{"full_name", name, &u.FullName}, {"phone", phone, &u.Phone}, {"affiliation", aff, &u.Affiliation}} {
		if *f.dst, err = s.pii.Open(f.col, u.Username, f.src); err != nil {
			return nil, "", err
		}
	}
	return &u, hash, nil
}

func (s *Service) byName(ctx context.Context, username string) (*User, string, error) {
	return s.scanUser(s.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE username = $1`, username))
}

func (s *Service) byID(ctx context.Context, id int64) (*User, string, error) {
	return s.scanUser(s.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
}

// User returns the account with id.
func (s *Service) User(ctx context.Context, id int64) (*User, error) {
	u, _, err := s.byID(ctx, id)
	return u, err
}

// ByName returns the account named username.
func (s *Service) ByName(ctx context.Context, username string) (*User, error) {
	u, _, err := s.byName(ctx, username)
	return u, err
}

// Users lists accounts by name; search, when set, matches a full name or a
// phone number exactly (through the blind indexes) or a user name.
func (s *Service) Users(ctx context.Context, search string) ([]*User, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+userColumns+` FROM users
		WHERE $1 = '' OR username = $1 OR full_name_index = $2 OR phone_index = $3 ORDER BY username`,
		search, s.pii.Index("full_name", search), s.pii.Index("phone", search))
	if err != nil {
		return nil, fmt.Errorf("account: list users: %w", err)
	}
	defer rows.Close()
	var us []*User
	for rows.Next() {
		u, _, err := s.scanUser(rows)
		if err != nil {
			return nil, err
		}
		us = append(us, u)
	}
	return us, rows.Err()
}

// NewUser describes an account to create.
type NewUser struct {
	Username, Role               string
	FullName, Phone, Affiliation string
	Password                     string // empty: generate one
}

// CreateUser creates an account. A given password must pass the policy; an
// empty one is generated. Either way it must be changed at first sign-in,
// since someone other than the user has seen it. It returns the password,
// to be shown once.
func (s *Service) CreateUser(ctx context.Context, a Actor, n NewUser) (*User, string, error) {
	if !usernameRE.MatchString(n.Username) {
		return nil, "", ErrBadUsername
	}
	if !slices.Contains(s.roles, n.Role) {
		return nil, "", fmt.Errorf("%w: %q (this daemon has %v)", ErrBadRole, n.Role, s.roles)
	}
	password := n.Password
	if password == "" {
		password = GeneratePassword()
	} else if err := CheckPassword(password, n.Username, n.FullName, n.Affiliation); err != nil {
		return nil, "", err
	}
	hash, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return nil, "", err
	}
	var id int64
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `
			INSERT INTO users (username, role, password_hash, must_change_password,
			                   full_name, full_name_index, phone, phone_index, affiliation)
			VALUES ($1, $2, $3, true, $4, $5, $6, $7, $8) RETURNING id`,
			n.Username, n.Role, hash,
			s.pii.Seal("full_name", n.Username, n.FullName), s.pii.Index("full_name", n.FullName),
			s.pii.Seal("phone", n.Username, n.Phone), s.pii.Index("phone", n.Phone),
			s.pii.Seal("affiliation", n.Username, n.Affiliation)).Scan(&id)
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "23505" {
			return fmt.Errorf("%w: %s", ErrUserExists, n.Username)
		}
		if err != nil {
			return fmt.Errorf("account: create user %s: %w", n.Username, err)
		}
		return s.record(ctx, tx, a, "user.create", n.Username, "ok", "role "+n.Role)
	})
	if err != nil {
		return nil, "", err
	}
	u, err := s.User(ctx, id)
	return u, password, err
}

// Admin operations on an account; each is audited with the acting admin.
const (
	OpDisable = "user.disable"
	OpEnable  = "user.enable"
	OpUnlock  = "user.unlock"
	OpReset   = "user.reset" // new generated password; TOTP and sessions cleared
)

// Administer applies op to the account with id. For OpReset it returns the
// new password, to be shown once.
func (s *Service) Administer(ctx context.Context, a Actor, id int64, op string) (string, error) {
	u, _, err := s.byID(ctx, id)
	if err != nil {
		return "", err
	}
	var password, hash string
	if op == OpReset {
		password = GeneratePassword()
		if hash, err = s.hasher.Hash(ctx, password); err != nil {
			return "", err
		}
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var stmts []string
		args := []any{u.ID}
		switch op {
		case OpDisable:
			if err := s.keepAnAdmin(ctx, tx, u); err != nil {
				return err
			}
			stmts = []string{`UPDATE users SET disabled = true WHERE id = $1`, `DELETE FROM sessions WHERE user_id = $1`}
		case OpEnable:
			stmts = []string{`UPDATE users SET disabled = false WHERE id = $1`}
		case OpUnlock:
			stmts = []string{`UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = $1`}
		case OpReset:
			stmts = []string{`DELETE FROM sessions WHERE user_id = $1`, `DELETE FROM recovery_codes WHERE user_id = $1`,
				`UPDATE users SET password_hash = $2, must_change_password = true, failed_logins = 0, locked_until = NULL,
				 totp_secret = NULL, totp_pending = NULL, totp_last_step = 0 WHERE id = $1`}
		default:
			return fmt.Errorf("account: unknown operation %q", op)
		}
		for _, stmt := range stmts {
			a := args
			if strings.Contains(stmt, "$2") {
				a = append(a, hash)
			}
			if _, err := tx.Exec(ctx, stmt, a...); err != nil {
				return fmt.Errorf("account: %s %s: %w", op, u.Username, err)
			}
		}
		return s.record(ctx, tx, a, op, u.Username, "ok", "")
	})
	return password, err
}

// SetRole changes an account's role.
func (s *Service) SetRole(ctx context.Context, a Actor, id int64, role string) error {
	if !slices.Contains(s.roles, role) {
		return fmt.Errorf("%w: %q", ErrBadRole, role)
	}
	u, _, err := s.byID(ctx, id)
	if err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if role != "admin" {
			if err := s.keepAnAdmin(ctx, tx, u); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE users SET role = $2 WHERE id = $1`, u.ID, role); err != nil {
			return err
		}
		// A new role means new permissions: sign in again.
		if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1`, u.ID); err != nil {
			return err
		}
		return s.record(ctx, tx, a, "user.role", u.Username, "ok", u.Role+" → "+role)
	})
}

// keepAnAdmin refuses to take away the last enabled admin. The check and
// the change it guards commit in one transaction, and every such
// transaction takes the same lock first: two admins disabling each other
// at once run one after the other, and the second finds itself the last.
// The account is read again under the lock (it may have changed since it
// was looked up).
func (s *Service) keepAnAdmin(ctx context.Context, tx pgx.Tx, u *User) error {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('sealgate.account.last_admin'))`); err != nil {
		return fmt.Errorf("account: lock the admins: %w", err)
	}
	var admin bool
	if err := tx.QueryRow(ctx, `SELECT role = 'admin' AND NOT disabled FROM users WHERE id = $1`, u.ID).Scan(&admin); err != nil {
		return fmt.Errorf("account: %s: %w", u.Username, err)
	}
	if !admin {
		return nil
	}
	var n int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM users WHERE role = 'admin' AND NOT disabled AND id <> $1`, u.ID).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return ErrLastAdmin
	}
	return nil
}
