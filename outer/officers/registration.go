package officers

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"sealgate/shared/account"
	"sealgate/shared/audit"
)

// Registration is a pending request, its personal data decrypted.
type Registration struct {
	ID          int64
	RequestedAt time.Time
	Username    string
	Person
	// UsernameTaken: an account has this name already; approval will be
	// refused, so the admin refuses the request instead.
	UsernameTaken bool
}

// Decision is what is kept of a decided or expired request.
type Decision struct {
	ID                     int64
	State                  string // approved, refused, expired
	RequestedAt, DecidedAt time.Time
	DecidedBy, Reason      string
	Username               string // the account an approval made; empty otherwise
}

// erase empties a request's personal data and password hash.
const erase = `username = NULL, password_hash = NULL, full_name = NULL, agency = NULL, badge = NULL, badge_index = NULL,
	phone = NULL, email = NULL, email_index = NULL`

// errDuplicateRequest is a registration whose badge or e-mail is pending
// already or an officer's: recorded, never told to the visitor.
var errDuplicateRequest = errors.New("officers: badge number or e-mail address already registered")

// Register records a visitor's request. A wrong field gives FieldErrors
// (about the form only, never about what exists); any other well-formed
// request returns nil, whether it was stored or refused as a duplicate of
// a pending request's or an officer's badge or e-mail, so the answer
// reveals neither. The password is hashed before anything is looked up
// (a duplicate costs the same time) and only its hash is kept.
func (r *Registry) Register(ctx context.Context, f Form, remote string) error {
	if err := r.check(&f, true); err != nil {
		return err
	}
	hash, err := r.accounts.HashPassword(ctx, f.Password, f.Username, f.FullName, f.Agency)
	if err != nil {
		return err
	}
	if _, err := r.Purge(ctx); err != nil {
		return err
	}
	var id int64
	err = pgx.BeginFunc(ctx, r.db, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT nextval(pg_get_serial_sequence('officer_registrations', 'id'))`).Scan(&id); err != nil {
			return fmt.Errorf("officers: number a registration: %w", err)
		}
		s := r.seal(registrationRow(id), &f.Person)
		var dup bool
		if err := tx.QueryRow(ctx, `SELECT
			EXISTS (SELECT 1 FROM officer_registrations WHERE state = 'pending' AND (badge_index = $1 OR email_index = $2))
			OR EXISTS (SELECT 1 FROM officer_profiles WHERE badge_index = $1 OR email_index = $2)`, s.badgeIndex, s.emailIndex).Scan(&dup); err != nil {
			return fmt.Errorf("officers: look for a duplicate: %w", err)
		}
		if dup {
			return errDuplicateRequest
		}
		_, err := tx.Exec(ctx, `INSERT INTO officer_registrations
			(id, requested_at, username, password_hash, full_name, agency, badge, badge_index, phone, email, email_index)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
			id, r.now(), f.Username, hash, s.name, s.agency, s.badge, s.badgeIndex, s.phone, s.email, s.emailIndex)
		if unique(err) { // the same badge or e-mail sent twice at once
			return errDuplicateRequest
		}
		if err != nil {
			return fmt.Errorf("officers: store a registration: %w", err)
		}
		return r.audit.AppendTx(ctx, tx, audit.Entry{Actor: "-", Action: "registration.request", Target: registrationRow(id), Outcome: audit.OK, Remote: remote})
	})
	if errors.Is(err, errDuplicateRequest) {
		r.metrics.count(OutcomeDuplicate, 1)
		if err := r.audit.Append(ctx, audit.Entry{Actor: "-", Action: "registration.request", Target: "registration", Outcome: audit.Denied,
			Remote: remote, Detail: errDuplicateRequest.Error()}); err != nil {
			return fmt.Errorf("officers: record a duplicate registration: %w", err)
		}
		return nil
	}
	if err != nil {
		return err
	}
	r.metrics.count(OutcomeRequested, 1)
	return nil
}

func unique(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505"
}

// Pending lists the requests awaiting a decision, oldest first, after
// purging those past PendingFor.
func (r *Registry) Pending(ctx context.Context) ([]*Registration, error) {
	if _, err := r.Purge(ctx); err != nil {
		return nil, err
	}
	rows, err := r.db.Query(ctx, `SELECT g.id, g.requested_at, g.username, g.full_name, g.agency, g.badge, g.phone, g.email,
			EXISTS (SELECT 1 FROM users u WHERE u.username = g.username)
		FROM officer_registrations g WHERE g.state = 'pending' ORDER BY g.requested_at, g.id`)
	if err != nil {
		return nil, fmt.Errorf("officers: list registrations: %w", err)
	}
	defer rows.Close()
	var rs []*Registration
	for rows.Next() {
		var g Registration
		var s sealed
		if err := rows.Scan(&g.ID, &g.RequestedAt, &g.Username, &s.name, &s.agency, &s.badge, &s.phone, &s.email, &g.UsernameTaken); err != nil {
			return nil, fmt.Errorf("officers: read a registration: %w", err)
		}
		if err := r.open(registrationRow(g.ID), s, &g.Person); err != nil {
			return nil, err
		}
		rs = append(rs, &g)
	}
	return rs, rows.Err()
}

// Decided lists the newest decisions (at most limit).
func (r *Registry) Decided(ctx context.Context, limit int) ([]*Decision, error) {
	rows, err := r.db.Query(ctx, `SELECT g.id, g.state, g.requested_at, g.decided_at, g.decided_by, g.reason, coalesce(u.username, '')
		FROM officer_registrations g LEFT JOIN users u ON u.id = g.user_id
		WHERE g.state <> 'pending' ORDER BY g.decided_at DESC, g.id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("officers: list decisions: %w", err)
	}
	ds, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*Decision, error) {
		var d Decision
		return &d, row.Scan(&d.ID, &d.State, &d.RequestedAt, &d.DecidedAt, &d.DecidedBy, &d.Reason, &d.Username)
	})
	if err != nil {
		return nil, fmt.Errorf("officers: read decisions: %w", err)
	}
	return ds, nil
}

// Approve turns a pending request into an officer account with the
// password chosen at registration (TOTP enrolment follows at the first
// sign-in) and its profile, and erases the request's copy of the personal
// data: account, profile, request and audit entry commit together. It
// returns the account's user name. A user name taken gives
// ErrUsernameTaken; a badge or e-mail an officer has gives ErrDuplicate.
func (r *Registry) Approve(ctx context.Context, a account.Actor, id int64) (string, error) {
	if _, err := r.Purge(ctx); err != nil {
		return "", err
	}
	var username string
	err := pgx.BeginFunc(ctx, r.db, func(tx pgx.Tx) error {
		var hash string
		var s sealed
		err := tx.QueryRow(ctx, `SELECT username, password_hash, full_name, agency, badge, phone, email
			FROM officer_registrations WHERE id = $1 AND state = 'pending' FOR UPDATE`, id).
			Scan(&username, &hash, &s.name, &s.agency, &s.badge, &s.phone, &s.email)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNoRegistration
		}
		if err != nil {
			return fmt.Errorf("officers: read registration %d: %w", id, err)
		}
		var p Person
		if err := r.open(registrationRow(id), s, &p); err != nil {
			return err
		}
		uid, err := r.accounts.CreateUserTx(ctx, tx, a, account.NewHashedUser{Username: username, Role: Role,
			FullName: p.FullName, Phone: p.Phone, Affiliation: p.Agency, PasswordHash: hash})
		if errors.Is(err, account.ErrUserExists) {
			return ErrUsernameTaken
		}
		if err != nil {
			return err
		}
		if err := r.insertProfile(ctx, tx, uid, username, &p, &id, a.Name); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE officer_registrations SET state = 'approved', decided_at = $2, decided_by = $3, user_id = $4, `+erase+`
			WHERE id = $1`, id, r.now(), a.Name, uid); err != nil {
			return fmt.Errorf("officers: close registration %d: %w", id, err)
		}
		return r.audit.AppendTx(ctx, tx, audit.Entry{Actor: a.Name, Action: "registration.approve", Target: username, Outcome: audit.OK,
			Remote: a.Remote, Detail: registrationRow(id)})
	})
	if errors.Is(err, ErrUsernameTaken) || errors.Is(err, ErrDuplicate) {
		if aerr := r.audit.Append(ctx, audit.Entry{Actor: a.Name, Action: "registration.approve", Target: registrationRow(id), Outcome: audit.Denied,
			Remote: a.Remote, Detail: strings.TrimPrefix(err.Error(), "officers: ")}); aerr != nil {
			return "", errors.Join(err, aerr)
		}
	}
	if err != nil {
		return "", err
	}
	r.metrics.count(OutcomeApproved, 1)
	return username, nil
}

// MaxReason is the longest refusal reason, in characters.
const MaxReason = 1000

// Refuse closes a pending request with a reason and erases its personal
// data and password hash; who, when and why are kept.
func (r *Registry) Refuse(ctx context.Context, a account.Actor, id int64, reason string) error {
	reason = strings.TrimSpace(reason)
	if reason == "" || utf8.RuneCountInString(reason) > MaxReason {
		return ErrNoReason
	}
	err := pgx.BeginFunc(ctx, r.db, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE officer_registrations SET state = 'refused', decided_at = $2, decided_by = $3, reason = $4, `+erase+`
			WHERE id = $1 AND state = 'pending'`, id, r.now(), a.Name, reason)
		if err != nil {
			return fmt.Errorf("officers: refuse registration %d: %w", id, err)
		}
		if tag.RowsAffected() == 0 {
			return ErrNoRegistration
		}
		return r.audit.AppendTx(ctx, tx, audit.Entry{Actor: a.Name, Action: "registration.refuse", Target: registrationRow(id), Outcome: audit.OK,
			Remote: a.Remote, Detail: reason})
	})
	if err != nil {
		return err
	}
	r.metrics.count(OutcomeRefused, 1)
	return nil
}

// Purge expires the requests pending longer than PendingFor, erasing their
// personal data, each audited. It runs before every submission, listing and
// approval, so none outlives its period by more than the next of those.
func (r *Registry) Purge(ctx context.Context) (int, error) {
	var ids []int64
	err := pgx.BeginFunc(ctx, r.db, func(tx pgx.Tx) error {
		now := r.now()
		rows, err := tx.Query(ctx, `UPDATE officer_registrations SET state = 'expired', decided_at = $2, decided_by = 'system',
			reason = 'not decided within 30 days', `+erase+`
			WHERE state = 'pending' AND requested_at < $1 RETURNING id`, now.Add(-PendingFor), now)
		if err != nil {
			return fmt.Errorf("officers: purge registrations: %w", err)
		}
		if ids, err = pgx.CollectRows(rows, pgx.RowTo[int64]); err != nil {
			return fmt.Errorf("officers: purge registrations: %w", err)
		}
		slices.Sort(ids)
		for _, id := range ids {
			if err := r.audit.AppendTx(ctx, tx, audit.Entry{Actor: "system", Action: "registration.expire", Target: registrationRow(id),
				Outcome: audit.OK, Detail: "not decided within 30 days; personal data erased"}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	if len(ids) > 0 {
		r.metrics.count(OutcomeExpired, len(ids))
		r.log.Info("expired officer registrations", slog.Int("count", len(ids)))
	}
	return len(ids), nil
}
