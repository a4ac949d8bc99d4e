package officers

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"sealgate/shared/account"
	"sealgate/shared/audit"
)

// Profile is an officer's personal data kept beside the account, for the
// player's overlay (name and badge) and the admin pages.
type Profile struct {
	Username string
	Person
	RegistrationID int64 // the approved request; 0: created by an admin
	CreatedAt      time.Time
	CreatedBy      string
}

// Profile returns the profile of the account username, or ErrNoProfile
// (an officer account made on the Users page has none).
func (r *Registry) Profile(ctx context.Context, username string) (*Profile, error) {
	var p Profile
	var s sealed
	err := r.db.QueryRow(ctx, `SELECT username, full_name, agency, badge, phone, email, coalesce(registration_id, 0), created_at, created_by
		FROM officer_profiles WHERE username = $1`, username).
		Scan(&p.Username, &s.name, &s.agency, &s.badge, &s.phone, &s.email, &p.RegistrationID, &p.CreatedAt, &p.CreatedBy)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNoProfile
	}
	if err != nil {
		return nil, fmt.Errorf("officers: read the profile of %s: %w", username, err)
	}
	if err := r.open(p.Username, s, &p.Person); err != nil {
		return nil, err
	}
	return &p, nil
}

// insertProfile stores the profile of the account uid in tx; a badge or an
// e-mail another officer has gives ErrDuplicate.
func (r *Registry) insertProfile(ctx context.Context, tx pgx.Tx, uid int64, username string, p *Person, registration *int64, by string) error {
	s := r.seal(username, p)
	_, err := tx.Exec(ctx, `INSERT INTO officer_profiles
		(user_id, username, full_name, agency, badge, badge_index, phone, email, email_index, registration_id, created_at, created_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		uid, username, s.name, s.agency, s.badge, s.badgeIndex, s.phone, s.email, s.emailIndex, registration, r.now(), by)
	if unique(err) {
		return ErrDuplicate
	}
	if err != nil {
		return fmt.Errorf("officers: store the profile of %s: %w", username, err)
	}
	return nil
}

// Create makes an officer account with its profile directly, for an
// admin, with a generated password the officer must change at the first
// sign-in (the admin has seen it). Wrong fields give FieldErrors; a user
// name taken, or a badge or e-mail another officer has, a FieldError on
// that field. It returns the account's user name and the password, to be
// shown once.
func (r *Registry) Create(ctx context.Context, a account.Actor, f Form) (username, password string, err error) {
	if err := r.check(&f, false); err != nil {
		return "", "", err
	}
	password, hash, err := r.generate(ctx, &f)
	if err != nil {
		return "", "", err
	}
	err = pgx.BeginFunc(ctx, r.db, func(tx pgx.Tx) error {
		uid, err := r.accounts.CreateUserTx(ctx, tx, a, account.NewHashedUser{Username: f.Username, Role: Role,
			FullName: f.FullName, Phone: f.Phone, Affiliation: f.Agency, PasswordHash: hash, MustChangePassword: true})
		if errors.Is(err, account.ErrUserExists) {
			return FieldErrors{{Field: FieldUsername, Key: "officers.p.taken"}}
		}
		if err != nil {
			return err
		}
		if err := r.insertProfile(ctx, tx, uid, f.Username, &f.Person, nil, a.Name); errors.Is(err, ErrDuplicate) {
			return FieldErrors{{Field: FieldBadge, Key: "officers.p.duplicate"}}
		} else if err != nil {
			return err
		}
		return r.audit.AppendTx(ctx, tx, audit.Entry{Actor: a.Name, Action: "officer.create", Target: f.Username, Outcome: audit.OK,
			Remote: a.Remote, Detail: "account and profile, without a registration"})
	})
	if err != nil {
		return "", "", err
	}
	return f.Username, password, nil
}

// generate returns a generated password that passes the policy for f (a
// random one could, once in a great while, contain the user name) and its
// hash.
func (r *Registry) generate(ctx context.Context, f *Form) (string, string, error) {
	var pe *account.PolicyError
	for {
		password := account.GeneratePassword()
		hash, err := r.accounts.HashPassword(ctx, password, f.Username, f.FullName, f.Agency)
		if errors.As(err, &pe) {
			continue
		}
		return password, hash, err
	}
}
