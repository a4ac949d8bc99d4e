// Package audit is the appliances' append-only, hash-chained audit log.
//
// # Guarantees
//
// Every entry carries a sequence number without gaps and an HMAC-SHA256 (key
// audit.key in the key directory) over its fields and the previous entry's
// MAC. The database refuses UPDATE, DELETE and TRUNCATE on the table (a
// trigger), so changing history takes superuser access to the database; and
// even then [Log.Verify] finds the first altered, deleted or reordered
// entry, because without the appliance's key nobody can forge the chain.
// Deleting the newest entries leaves a valid shorter chain: compare the
// count with an earlier `audit verify` to notice that.
package audit

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Outcomes of an audited action.
const (
	OK     = "ok"
	Denied = "denied" // refused by policy: wrong password, missing role, lockout
	Failed = "failed" // attempted and broke
)

// Entry is one audit record.
type Entry struct {
	Seq     int64
	At      time.Time
	Actor   string // username, or "-" when unknown (a failed login names the attempted user in Target)
	Action  string // e.g. login, logout, user.create, export.approve
	Target  string
	Outcome string
	Remote  string // client address
	Detail  string
	MAC     []byte
}

// lockID serialises appends across processes sharing the database.
const lockID = 0x5ea1a0d1

// Log appends to and reads the audit_log table.
type Log struct {
	pool *pgxpool.Pool
	key  []byte
}

// New returns a Log keyed with the appliance's audit key.
func New(pool *pgxpool.Pool, key []byte) *Log { return &Log{pool: pool, key: key} }

// Append records e in its own transaction.
func (l *Log) Append(ctx context.Context, e Entry) error {
	return pgx.BeginFunc(ctx, l.pool, func(tx pgx.Tx) error { return l.AppendTx(ctx, tx, e) })
}

// AppendTx records e inside tx, so the audited change and its record commit
// or roll back together.
func (l *Log) AppendTx(ctx context.Context, tx pgx.Tx, e Entry) error {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, lockID); err != nil {
		return fmt.Errorf("audit: lock: %w", err)
	}
	var prev []byte
	err := tx.QueryRow(ctx, `SELECT seq, mac FROM audit_log ORDER BY seq DESC LIMIT 1`).Scan(&e.Seq, &prev)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("audit: read chain head: %w", err)
	}
	e.Seq++
	if e.At.IsZero() {
		e.At = time.Now()
	}
	e.At = e.At.UTC().Truncate(time.Microsecond) // what timestamptz keeps
	if e.Outcome == "" {
		e.Outcome = OK
	}
	e.MAC = l.mac(prev, &e)
	_, err = tx.Exec(ctx, `INSERT INTO audit_log (seq, at, actor, action, target, outcome, remote, detail, mac)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		e.Seq, e.At, e.Actor, e.Action, e.Target, e.Outcome, e.Remote, e.Detail, e.MAC)
	if err != nil {
		return fmt.Errorf("audit: append %s: %w", e.Action, err)
	}
	return nil
}

// mac is HMAC-SHA256(key, prev MAC ‖ seq ‖ time ‖ each field length-prefixed).
func (l *Log) mac(prev []byte, e *Entry) []byte {
	h := hmac.New(sha256.New, l.key)
	h.Write(prev)
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(e.Seq))
	h.Write(n[:])
	binary.BigEndian.PutUint64(n[:], uint64(e.At.UnixMicro()))
	h.Write(n[:])
	for _, f := range []string{e.Actor, e.Action, e.Target, e.Outcome, e.Remote, e.Detail} {
		binary.BigEndian.PutUint32(n[:4], uint32(len(f)))
		h.Write(n[:4])
		h.Write([]byte(f))
	}
	return h.Sum(nil)
}

// BrokenError names the first entry where the chain does not hold.
type BrokenError struct {
	Seq    int64
	Reason string
}

func (e *BrokenError) Error() string {
	return fmt.Sprintf("audit: chain broken at entry %d: %s", e.Seq, e.Reason)
}

// Verify walks the whole chain in order and returns how many entries hold,
// or a *BrokenError naming the first entry altered, missing or out of place.
func (l *Log) Verify(ctx context.Context) (int64, error) { return l.verify(ctx, nil) }

// verify walks the chain as Verify does and calls each (if set) with every
// entry that holds; an error from it stops the walk.
func (l *Log) verify(ctx context.Context, each func(*Entry) error) (int64, error) {
	rows, err := l.pool.Query(ctx, `SELECT seq, at, actor, action, target, outcome, remote, detail, mac FROM audit_log ORDER BY seq`)
	if err != nil {
		return 0, fmt.Errorf("audit: %w", err)
	}
	defer rows.Close()
	var prev []byte
	var want int64 = 1
	for rows.Next() {
		var e Entry
		if err := rows.Scan(&e.Seq, &e.At, &e.Actor, &e.Action, &e.Target, &e.Outcome, &e.Remote, &e.Detail, &e.MAC); err != nil {
			return 0, fmt.Errorf("audit: %w", err)
		}
		if e.Seq != want {
			return want - 1, &BrokenError{Seq: want, Reason: fmt.Sprintf("missing (the next entry is %d): deleted", e.Seq)}
		}
		if !hmac.Equal(e.MAC, l.mac(prev, &e)) {
			return want - 1, &BrokenError{Seq: e.Seq, Reason: fmt.Sprintf("altered or out of order (%s %s by %s at %s)", e.Action, e.Target, e.Actor, e.At.Format(time.RFC3339))}
		}
		if each != nil {
			if err := each(&e); err != nil {
				return want - 1, err
			}
		}
		prev = e.MAC
		want++
	}
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("audit: %w", err)
	}
	return want - 1, nil
}
