package account

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Session lifetimes.
const (
	IdleTimeout     = 30 * time.Minute
	AbsoluteTimeout = 10 * time.Hour // one working shift
)

// Stages of a session: what the user must do before using the daemon.
const (
	StagePassword   = "password"    // change the first or reset password
	StageTOTPEnroll = "totp_enroll" // enrol TOTP (required for the role)
	StageTOTP       = "totp"        // enter a TOTP or recovery code
	StageOK         = "ok"          // signed in
)

// ErrNoSession reports a missing, expired or ended session.
var ErrNoSession = errors.New("account: no valid session")

// Session is a signed-in (or signing-in) browser.
type Session struct {
	IDHash   []byte
	Stage    string
	User     *User
	LastSeen time.Time
}

// NextStage is where a user goes after the stage just passed.
func (s *Service) NextStage(u *User) string {
	switch {
	case u.MustChangePassword:
		return StagePassword
	case u.TOTPEnabled:
		return StageTOTP
	case s.NeedsTOTP(u.Role):
		return StageTOTPEnroll
	}
	return StageOK
}

// StartSession creates a session for u at stage and returns the cookie's
// token. Only the token's SHA-256 is stored, so a database reader cannot
// take over sessions. A session that starts at StageOK is a finished
// sign-in, which resets the failure count.
func (s *Service) StartSession(ctx context.Context, u *User, stage, remote, userAgent string) (string, error) {
	token, hash := newToken()
	now := s.now()
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO sessions (id_hash, user_id, stage, created_at, last_seen, expires_at, remote, user_agent)
			VALUES ($1, $2, $3, $4, $4, $5, $6, $7)`, hash, u.ID, stage, now, now.Add(AbsoluteTimeout), remote, truncate(userAgent, 200)); err != nil {
			return err
		}
		if stage == StageOK {
			return resetFailuresTx(ctx, tx, u.ID)
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("account: start session: %w", err)
	}
	return token, nil
}

// Session returns the live session for token and marks it used. Expired
// (idle or absolute) sessions are deleted and give ErrNoSession; so do
// sessions of disabled accounts.
func (s *Service) Session(ctx context.Context, token string) (*Session, error) {
	hash := tokenHash(token)
	if hash == nil {
		return nil, ErrNoSession
	}
	var userID int64
	var sess Session
	var expires time.Time
	err := s.pool.QueryRow(ctx, `SELECT user_id, stage, last_seen, expires_at FROM sessions WHERE id_hash = $1`, hash).
		Scan(&userID, &sess.Stage, &sess.LastSeen, &expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNoSession
	}
	if err != nil {
		return nil, fmt.Errorf("account: read session: %w", err)
	}
	now := s.now()
	if now.After(expires) || now.Sub(sess.LastSeen) > IdleTimeout {
		s.pool.Exec(ctx, `DELETE FROM sessions WHERE id_hash = $1`, hash)
		return nil, ErrNoSession
	}
	u, err := s.User(ctx, userID)
	if err != nil || u.Disabled {
		return nil, ErrNoSession
	}
	if now.Sub(sess.LastSeen) > time.Minute { // spare the database a write per request
		s.pool.Exec(ctx, `UPDATE sessions SET last_seen = $2 WHERE id_hash = $1`, hash, now)
	}
	sess.IDHash, sess.User = hash, u
	return &sess, nil
}

// Advance moves a session to stage under a new token (the old one stops
// working, so a token seen before a step up is worth nothing after it).
// Reaching StageOK from an earlier stage is the whole sign-in succeeding:
// only then is the failure count reset.
func (s *Service) Advance(ctx context.Context, sess *Session, stage string) (string, error) {
	token, hash := newToken()
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var userID int64
		var was string
		err := tx.QueryRow(ctx, `SELECT user_id, stage FROM sessions WHERE id_hash = $1 FOR UPDATE`, sess.IDHash).Scan(&userID, &was)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNoSession
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE sessions SET id_hash = $2, stage = $3, last_seen = $4 WHERE id_hash = $1`, sess.IDHash, hash, stage, s.now()); err != nil {
			return err
		}
		if stage == StageOK && was != StageOK {
			return resetFailuresTx(ctx, tx, userID)
		}
		return nil
	})
	if errors.Is(err, ErrNoSession) {
		return "", err
	}
	if err != nil {
		return "", fmt.Errorf("account: advance session: %w", err)
	}
	sess.IDHash, sess.Stage = hash, stage
	return token, nil
}

// EndSession signs one session out; all ends every session of its user
// ("sign out everywhere").
func (s *Service) EndSession(ctx context.Context, a Actor, sess *Session, all bool) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		sql, arg, action := `DELETE FROM sessions WHERE id_hash = $1`, any(sess.IDHash), "logout"
		if all {
			sql, arg, action = `DELETE FROM sessions WHERE user_id = $1`, sess.User.ID, "logout.all"
		}
		if _, err := tx.Exec(ctx, sql, arg); err != nil {
			return err
		}
		return s.record(ctx, tx, a, action, sess.User.Username, "ok", "")
	})
}

func newToken() (string, []byte) {
	b := make([]byte, 32)
	rand.Read(b)
	token := base64.RawURLEncoding.EncodeToString(b)
	return token, tokenHash(token)
}

func tokenHash(token string) []byte {
	if len(token) != 43 {
		return nil
	}
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
