package account

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Sentinel errors of the users table.
var (
	ErrUserExists  = errors.New("account: user already exists")
	ErrBadUsername = errors.New("account: username must be 3–32 characters: a–z, 0–9, '.', '_' or '-', starting with a letter or digit")
	ErrBadRole     = errors.New("account: role not allowed on this daemon")
)

var usernameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{2,31}$`)

// User is a row of the users table.
type User struct {
	ID                 int64
	Username           string
	Role               string
	MustChangePassword bool
	Disabled           bool
	CreatedAt          time.Time
}

// Store queries the users table.
type Store struct{ pool *pgxpool.Pool }

// NewStore returns a Store over pool.
func NewStore(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

// CreateUser inserts a user with a password hash. mustChange forces a new
// password at first sign-in (always so for generated passwords).
func (s *Store) CreateUser(ctx context.Context, username, role, hash string, mustChange bool) (*User, error) {
	if !usernameRE.MatchString(username) {
		return nil, ErrBadUsername
	}
	u := &User{Username: username, Role: role, MustChangePassword: mustChange}
	err := s.pool.QueryRow(ctx, `
		INSERT INTO users (username, role, password_hash, must_change_password)
		VALUES ($1, $2, $3, $4)
		RETURNING id, created_at`, username, role, hash, mustChange).Scan(&u.ID, &u.CreatedAt)
	var pgErr *pgconn.PgError
	switch {
	case errors.As(err, &pgErr) && pgErr.Code == "23505": // unique_violation
		return nil, fmt.Errorf("%w: %s", ErrUserExists, username)
	case errors.As(err, &pgErr) && pgErr.Code == "23514" && pgErr.ConstraintName == "users_role_check":
		return nil, fmt.Errorf("%w: %q", ErrBadRole, role)
	case err != nil:
		return nil, fmt.Errorf("account: create user %s: %w", username, err)
	}
	return u, nil
}

// CountByRole returns how many enabled users hold role.
func (s *Store) CountByRole(ctx context.Context, role string) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM users WHERE role = $1 AND NOT disabled`, role).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("account: count users: %w", err)
	}
	return n, nil
}
