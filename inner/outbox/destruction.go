package outbox

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/jackc/pgx/v5"

	"sealgate/shared/audit"
	"sealgate/shared/seal"
	"sealgate/transfer"
	"sealgate/transfer/send"
)

// Destruction is what the outer said of a delivered package, and the
// receipt it signed once the package was destroyed (docs/transfer.md,
// "Destruction receipts").
type Destruction struct {
	DestroyedAt   *time.Time `json:"destroyed_at"`
	Verified      bool       `json:"destruction_verified"` // the receipt verified against the outer's pinned transfer key
	Reason        string     `json:"destruction_reason,omitempty"`
	SignedReceipt string     `json:"destruction_receipt,omitempty"` // hex (transfer.VerifyDestruction)
	OuterState    string     `json:"outer_state,omitempty"`         // the last answer: held, destroyed, unknown
	QueriedAt     *time.Time `json:"queried_at,omitempty"`
	NextQueryAt   *time.Time `json:"next_query_at,omitempty"`
	QueryError    string     `json:"query_error,omitempty"`
	// What the addressed officers did with it, as of QueriedAt.
	FirstViewedAt *time.Time `json:"first_viewed_at,omitempty"`
	Downloads     int        `json:"downloads"`
	Plays         int        `json:"plays"`
}

const destructionColumns = `destroyed_at, destruction_verified, coalesce(destruction_reason, ''),
	coalesce(encode(destruction_receipt, 'hex'), ''), coalesce(outer_state, ''), queried_at, next_query_at, query_error,
	first_viewed_at, downloads, plays`

func (d *Destruction) fields() []any {
	return []any{&d.DestroyedAt, &d.Verified, &d.Reason, &d.SignedReceipt, &d.OuterState, &d.QueriedAt, &d.NextQueryAt, &d.QueryError,
		&d.FirstViewedAt, &d.Downloads, &d.Plays}
}

var _ send.Receipts = Sending{}

// queryLease is how long a package claimed for a status query is not
// handed out again: the query's answer reschedules it, and a sender that
// died mid-query leaves it due again after this.
const queryLease = 10 * time.Minute

// DueForQuery implements send.Receipts.
func (o *Outbox) DueForQuery(ctx context.Context, now time.Time, n int) ([]send.Delivered, error) {
	rows, err := o.pool.Query(ctx, `
		UPDATE outbox SET next_query_at = $1::timestamptz + $3::interval
		WHERE id IN (SELECT id FROM outbox
		             WHERE state = 'delivered' AND NOT destruction_verified AND coalesce(next_query_at, '-infinity') <= $1
		             ORDER BY next_query_at NULLS FIRST, id FOR UPDATE SKIP LOCKED LIMIT $2)
		RETURNING id, sha256, delivered_at, view_until`, now, n, queryLease.String())
	if err != nil {
		return nil, fmt.Errorf("outbox: packages due for a status query: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (send.Delivered, error) {
		var d send.Delivered
		var sum []byte
		var delivered, until *time.Time
		if err := r.Scan(&d.ID, &sum, &delivered, &until); err != nil {
			return d, err
		}
		copy(d.SHA256[:], sum)
		d.DeliveredAt, d.ViewUntil = deref(delivered), deref(until)
		return d, nil
	})
}

// Answered implements send.Receipts: the reply is verified here again,
// against outerKey and the package's own SHA-256, and nothing is recorded
// unless it verifies. A destruction is recorded once, with its receipt,
// in one transaction with its audit entry. Every answer records the
// package's use as the outer counted it (the counts only grow there; a
// reply from before a newer one cannot lower them here).
func (o *Outbox) Answered(ctx context.Context, id int64, signed []byte, outerKey ed25519.PublicKey, next time.Time) error {
	return pgx.BeginFunc(ctx, o.pool, func(tx pgx.Tx) error {
		var raw []byte
		var verified bool
		if err := tx.QueryRow(ctx, `SELECT sha256, destruction_verified FROM outbox WHERE id = $1 AND state = 'delivered' FOR UPDATE`, id).
			Scan(&raw, &verified); err != nil {
			return fmt.Errorf("outbox: status reply about entry %d: %w", id, err)
		}
		var sum [32]byte
		copy(sum[:], raw)
		rep, err := transfer.ParseStatusReply(signed, outerKey, sum)
		if err != nil {
			return fmt.Errorf("outbox: status reply about %x refused: %w", sum, err)
		}
		if verified {
			return nil // another node recorded it
		}
		var viewed *time.Time
		if !rep.FirstViewed.IsZero() {
			viewed = &rep.FirstViewed
		}
		if _, err := tx.Exec(ctx, `UPDATE outbox SET first_viewed_at = least(first_viewed_at, $2::timestamptz),
			downloads = greatest(downloads, $3), plays = greatest(plays, $4) WHERE id = $1`,
			id, viewed, int(rep.Downloads), int(rep.Plays)); err != nil {
			return fmt.Errorf("outbox: record a package's use: %w", err)
		}
		if rep.State != transfer.StateDestroyed {
			_, err := tx.Exec(ctx, `UPDATE outbox SET outer_state = $2, queried_at = now(), next_query_at = $3, query_error = '' WHERE id = $1`,
				id, rep.State.String(), next)
			if err != nil {
				return fmt.Errorf("outbox: record a status reply: %w", err)
			}
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE outbox SET outer_state = 'destroyed', queried_at = now(), next_query_at = NULL, query_error = '',
			destroyed_at = $2, destruction_reason = $3, destruction_receipt = $4, destruction_verified = true WHERE id = $1`,
			id, rep.DestroyedAt, rep.Reason.String(), signed); err != nil {
			return fmt.Errorf("outbox: record a destruction receipt: %w", err)
		}
		return o.audit.AppendTx(ctx, tx, audit.Entry{Actor: "system", Action: "transfer.destroyed", Target: hex.EncodeToString(sum[:]),
			Detail: fmt.Sprintf("the outer destroyed the package at %s (%s; reason text sha256:%x) after %d downloads and %d plays; receipt %x",
				rep.DestroyedAt.Format(time.RFC3339), rep.Reason, rep.ReasonSHA256, rep.Downloads, rep.Plays, signed)})
	})
}

// Unanswered implements send.Receipts.
func (o *Outbox) Unanswered(ctx context.Context, id int64, cause error, next time.Time) error {
	msg := cause.Error()
	if len(msg) > 500 {
		msg = msg[:500]
	}
	if _, err := o.pool.Exec(ctx, `UPDATE outbox SET next_query_at = $2, query_error = $3 WHERE id = $1 AND NOT destruction_verified`,
		id, next, msg); err != nil {
		return fmt.Errorf("outbox: record an unanswered status query: %w", err)
	}
	return nil
}

// ErrNoReceipt reports a package with no destruction receipt kept.
var ErrNoReceipt = errors.New("outbox: no destruction receipt")

// VerifyDestruction checks the destruction receipt kept for package
// sha256 (hex) against the outer's transfer key, as when it was recorded.
func (o *Outbox) VerifyDestruction(ctx context.Context, sha256 string, outerKey ed25519.PublicKey) (transfer.StatusReply, error) {
	raw, err := hex.DecodeString(sha256)
	if err != nil || len(raw) != 32 {
		return transfer.StatusReply{}, fmt.Errorf("outbox: %q is not a package's SHA-256", sha256)
	}
	var receipt []byte
	if err := o.pool.QueryRow(ctx, `SELECT destruction_receipt FROM outbox WHERE sha256 = $1`, raw).Scan(&receipt); err != nil {
		return transfer.StatusReply{}, fmt.Errorf("outbox: %s: %w", sha256, err)
	}
	if receipt == nil {
		return transfer.StatusReply{}, fmt.Errorf("%w for %s", ErrNoReceipt, sha256)
	}
	var sum [32]byte
	copy(sum[:], raw)
	return transfer.VerifyDestruction(receipt, outerKey, sum)
}

// Copy is what became of a marked copy's delivered packages.
type Copy struct {
	DestroyedAt *time.Time // set once every delivered package carrying it has a verified receipt
	Verified    bool
}

// Querier runs a query: a pool or a transaction.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// Copies looks up, by watermark payload (16 hex digits, as the ledger
// prints it), the delivered packages that carry each copy. A copy counts
// as destroyed, verified, only when every one of them is; its time is the
// last destruction's. Copies with no delivered package are absent.
func Copies(ctx context.Context, db Querier, payloads []string) (map[string]Copy, error) {
	rows, err := db.Query(ctx, `SELECT watermark, bool_and(destruction_verified), max(destroyed_at) FROM outbox
		WHERE state = 'delivered' AND watermark = ANY($1) GROUP BY watermark`, payloads)
	if err != nil {
		return nil, fmt.Errorf("outbox: destruction of copies: %w", err)
	}
	defer rows.Close()
	out := map[string]Copy{}
	for rows.Next() {
		var w string
		var c Copy
		if err := rows.Scan(&w, &c.Verified, &c.DestroyedAt); err != nil {
			return nil, fmt.Errorf("outbox: destruction of copies: %w", err)
		}
		if !c.Verified {
			c.DestroyedAt = nil
		}
		out[w] = c
	}
	return out, rows.Err()
}

var payloadPattern = regexp.MustCompile(`^[0-9a-f]{16}$`)

// watermarkOf is the manifest's watermark payload when it is one (the
// manifest is this appliance's own, signed; anything else is not kept).
func watermarkOf(m *seal.Manifest) string {
	if m == nil || !payloadPattern.MatchString(m.Watermark) {
		return ""
	}
	return m.Watermark
}

func viewUntil(m *seal.Manifest) *time.Time {
	if m == nil || m.ViewUntil.IsZero() {
		return nil
	}
	return &m.ViewUntil
}

func deref(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}
