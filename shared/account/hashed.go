package account

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// ValidUsername reports whether name may name an account (what the users
// table's CHECK allows).
func ValidUsername(name string) bool { return usernameRE.MatchString(name) }

// HashPassword checks password against the policy for the account username
// (related: the person's name and affiliation, which it must not lean on)
// and returns its Argon2id hash at the service's cost: for a password
// chosen before its account exists (an officer's registration), so the
// clear text is never kept.
func (s *Service) HashPassword(ctx context.Context, password, username string, related ...string) (string, error) {
	if err := CheckPassword(password, username, related...); err != nil {
		return "", err
	}
	return s.hasher.Hash(ctx, password)
}

// PII is the service's personal-data cipher (pii.key), for the tables of
// other packages that keep personal data beside an account.
func (s *Service) PII() *PII { return s.pii }

// NewHashedUser describes an account whose password was hashed beforehand
// ([Service.HashPassword]).
type NewHashedUser struct {
	Username, Role               string
	FullName, Phone, Affiliation string
	PasswordHash                 string
	// MustChangePassword: someone other than the user has seen the
	// password (a generated one shown to an admin). A password the user
	// chose alone needs no change.
	MustChangePassword bool
}

// CreateUserTx creates an account inside the caller's transaction, with
// the audit entry, so it commits or rolls back with the caller's own rows
// (an approved registration and the officer's profile). A username taken
// gives ErrUserExists; the caller's transaction is then unusable.
func (s *Service) CreateUserTx(ctx context.Context, tx pgx.Tx, a Actor, n NewHashedUser) (int64, error) {
	if !usernameRE.MatchString(n.Username) {
		return 0, ErrBadUsername
	}
	if !slices.Contains(s.roles, n.Role) {
		return 0, fmt.Errorf("%w: %q (this daemon has %v)", ErrBadRole, n.Role, s.roles)
	}
	if _, err := parsePHC(n.PasswordHash); err != nil {
		return 0, err
	}
	var id int64
	err := tx.QueryRow(ctx, `
		INSERT INTO users (username, role, password_hash, must_change_password,
		                   full_name, full_name_index, phone, phone_index, affiliation)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
		n.Username, n.Role, n.PasswordHash, n.MustChangePassword,
		s.pii.Seal("full_name", n.Username, n.FullName), s.pii.Index("full_name", n.FullName),
		s.pii.Seal("phone", n.Username, n.Phone), s.pii.Index("phone", n.Phone),
		s.pii.Seal("affiliation", n.Username, n.Affiliation)).Scan(&id)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return 0, fmt.Errorf("%w: %s", ErrUserExists, n.Username)
	}
	if err != nil {
		return 0, fmt.Errorf("account: create user %s: %w", n.Username, err)
	}
	if err := s.record(ctx, tx, a, "user.create", n.Username, "ok", "role "+n.Role); err != nil {
		return 0, err
	}
	return id, nil
}
