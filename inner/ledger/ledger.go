// Package ledger is the inner appliance's export ledger: one row per marked
// copy it issues, naming who asked for it, why, who made it, from which
// footage and what came out. A row's serial is the export serial in the
// copy's forensic watermark (sealgate/inner/watermark), so tracing a leaked
// copy leads back to its row. Rows are never deleted, and a serial is never
// reused, not even after a render that failed.
package ledger

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"sealgate/inner/outbox"
	"sealgate/inner/watermark"
	"sealgate/shared/account"
	"sealgate/shared/audit"
)

// States of a row.
const (
	Rendering = "rendering" // serial taken, the marked copy is being made
	Issued    = "issued"    // the marked copy exists; OutputSHA256 names it
	Failed    = "failed"    // the render failed; no copy carries the serial
	Withdrawn = "withdrawn" // the copy was made but discarded before it left (sent back, cancelled)
)

// Limits on what a person types, as the schema enforces them.
const (
	MaxRequester = 200
	MaxReason    = 500
)

// Entry is one row.
type Entry struct {
	Payload      string     `json:"payload"` // the watermark's 16 hex digits
	Appliance    uint16     `json:"appliance"`
	Serial       uint64     `json:"serial"`
	Requester    string     `json:"requester"`
	Reason       string     `json:"reason"`
	IssuedBy     string     `json:"issued_by"`
	IssuedAt     time.Time  `json:"issued_at"`
	SourceName   string     `json:"source_name"`
	SourceSHA256 string     `json:"source_sha256"`
	State        string     `json:"state"`
	OutputSHA256 string     `json:"output_sha256,omitempty"`
	Frames       int        `json:"frames,omitempty"`
	PSNR         float64    `json:"psnr_db,omitempty"`
	Error        string     `json:"error,omitempty"`
	FinishedAt   *time.Time `json:"finished_at,omitempty"`
	WithdrawnBy  string     `json:"withdrawn_by,omitempty"`
	WithdrawnAt  *time.Time `json:"withdrawn_at,omitempty"`
	Withdrawn    string     `json:"withdrawn_reason,omitempty"`
	// DestroyedAt is when the outer destroyed the copy's delivered
	// package, once its signed destruction receipt verified
	// (DestructionVerified; null and false until then, and for a copy
	// never delivered online).
	DestroyedAt         *time.Time `json:"destroyed_at"`
	DestructionVerified bool       `json:"destruction_verified"`
}

// Request is what a new row records before the copy is made.
type Request struct {
	Requester    string // who asked for the footage: officer, unit, agency
	Reason       string // why: case number, incident
	IssuedBy     string // who makes the copy: console user, or "cli"
	SourceName   string
	SourceSHA256 [32]byte
}

// ErrInvalid reports a request the ledger refuses.
var ErrInvalid = errors.New("ledger: invalid request")

func (r *Request) check() error {
	r.Requester, r.Reason = strings.TrimSpace(r.Requester), strings.TrimSpace(r.Reason)
	var errs []error
	field := func(name, v string, max int) {
		switch n := utf8.RuneCountInString(v); {
		case !utf8.ValidString(v):
			errs = append(errs, fmt.Errorf("%s is not valid UTF-8", name))
		case n == 0:
			errs = append(errs, fmt.Errorf("%s is required", name))
		case n > max:
			errs = append(errs, fmt.Errorf("%s is %d characters, at most %d", name, n, max))
		case strings.ContainsFunc(v, func(r rune) bool { return r < ' ' || r == 0x7f }):
			errs = append(errs, fmt.Errorf("%s holds control characters", name))
		}
	}
	field("requester", r.Requester, MaxRequester)
	field("reason", r.Reason, MaxReason)
	if r.IssuedBy == "" {
		errs = append(errs, errors.New("issued_by is required"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return nil
}

// Ledger reads and writes the ledger table.
type Ledger struct {
	pool      *pgxpool.Pool
	audit     *audit.Log
	appliance uint16
	pii       *account.PII // opens the records' requesters (WithPII)
}

// New returns the ledger of the appliance numbered appliance (1…65535).
func New(pool *pgxpool.Pool, log *audit.Log, appliance int) (*Ledger, error) {
	if appliance < 1 || appliance > 65535 {
		return nil, fmt.Errorf("ledger: appliance number %d is outside 1…65535", appliance)
	}
	return &Ledger{pool: pool, audit: log, appliance: uint16(appliance)}, nil
}

const columns = `appliance, serial, requester, reason, issued_by, issued_at, source_name, source_sha256,
	state, output_sha256, coalesce(frames, 0), coalesce(psnr_db, 0), error, finished_at,
	coalesce(withdrawn_by, ''), withdrawn_at, withdrawn_reason`

func scan(row pgx.Row) (*Entry, error) {
	var e Entry
	var appliance int32
	var serial int64
	var src, out []byte
	var psnr float32
	if err := row.Scan(&appliance, &serial, &e.Requester, &e.Reason, &e.IssuedBy, &e.IssuedAt, &e.SourceName, &src,
		&e.State, &out, &e.Frames, &psnr, &e.Error, &e.FinishedAt, &e.WithdrawnBy, &e.WithdrawnAt, &e.Withdrawn); err != nil {
		return nil, err
	}
	e.Appliance, e.Serial, e.PSNR = uint16(appliance), uint64(serial), float64(psnr)
	e.Payload = watermark.ExportPayload(e.Appliance, e.Serial).String()
	e.SourceSHA256 = fmt.Sprintf("%x", src)
	if out != nil {
		e.OutputSHA256 = fmt.Sprintf("%x", out)
	}
	return &e, nil
}

// Open takes the next serial for a copy about to be made and records the
// request, in the same transaction as its audit entry: a serial that is in
// a copy is always on record.
func (l *Ledger) Open(ctx context.Context, r Request) (*Entry, error) {
	if err := r.check(); err != nil {
		return nil, err
	}
	var e *Entry
	err := pgx.BeginFunc(ctx, l.pool, func(tx pgx.Tx) error {
		var err error
		e, err = scan(tx.QueryRow(ctx, `INSERT INTO ledger (appliance, requester, reason, issued_by, source_name, source_sha256)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING `+columns,
			int32(l.appliance), r.Requester, r.Reason, r.IssuedBy, r.SourceName, r.SourceSHA256[:]))
		if err != nil {
			return fmt.Errorf("ledger: %w", err)
		}
		return l.audit.AppendTx(ctx, tx, audit.Entry{Actor: r.IssuedBy, Action: "ledger.open", Target: "export:" + e.Payload,
			Outcome: audit.OK, Detail: fmt.Sprintf("requester %q, reason %q, source %s sha256:%s", e.Requester, e.Reason, e.SourceName, e.SourceSHA256)})
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}

// WatermarkPayload is the watermark that the row's copy carries.
func (e *Entry) WatermarkPayload() watermark.Payload {
	return watermark.ExportPayload(e.Appliance, e.Serial)
}

// Issue records the marked copy made for serial.
func (l *Ledger) Issue(ctx context.Context, serial uint64, output [32]byte, frames int, psnr float64) (*Entry, error) {
	return l.finish(ctx, serial, Issued, output[:], frames, psnr, "")
}

// Fail records that no copy carries serial. The serial stays taken.
func (l *Ledger) Fail(ctx context.Context, serial uint64, cause error) (*Entry, error) {
	msg := cause.Error()
	if len(msg) > 1000 {
		msg = msg[:1000]
	}
	return l.finish(ctx, serial, Failed, nil, 0, 0, strings.ToValidUTF8(msg, "?"))
}

// Withdraw records, inside the caller's transaction tx, that the copy
// issued for serial was discarded before it left the inner: by whom, why.
// The serial stays taken. A row not issued is left alone: nothing was
// made, or it is already withdrawn.
func Withdraw(ctx context.Context, tx pgx.Tx, log *audit.Log, serial uint64, by, why string) error {
	var appliance int32
	err := tx.QueryRow(ctx, `UPDATE ledger SET state = 'withdrawn', withdrawn_by = $2, withdrawn_at = now(), withdrawn_reason = $3
		WHERE serial = $1 AND state = 'issued' RETURNING appliance`, int64(serial), by, strings.ToValidUTF8(why, "?")).Scan(&appliance)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("ledger: withdraw serial %d: %w", serial, err)
	}
	payload := watermark.ExportPayload(uint16(appliance), serial).String()
	return log.AppendTx(ctx, tx, audit.Entry{Actor: by, Action: "ledger.withdrawn", Target: "export:" + payload, Outcome: audit.OK, Detail: why})
}

// ErrNotRendering reports a row that was already finished.
var ErrNotRendering = errors.New("ledger: the entry is not being rendered")

func (l *Ledger) finish(ctx context.Context, serial uint64, state string, output []byte, frames int, psnr float64, msg string) (*Entry, error) {
	var e *Entry
	err := pgx.BeginFunc(ctx, l.pool, func(tx pgx.Tx) error {
		var err error
		var fr, ps any
		if state == Issued {
			fr, ps = frames, psnr
		}
		e, err = scan(tx.QueryRow(ctx, `UPDATE ledger SET state = $2, output_sha256 = $3, frames = $4, psnr_db = $5, error = $6,
			finished_at = now() WHERE serial = $1 AND state = 'rendering' RETURNING `+columns,
			int64(serial), state, output, fr, ps, msg))
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("%w: serial %d", ErrNotRendering, serial)
		}
		if err != nil {
			return fmt.Errorf("ledger: %w", err)
		}
		entry := audit.Entry{Actor: e.IssuedBy, Action: "ledger." + state, Target: "export:" + e.Payload, Outcome: audit.OK}
		if state == Issued {
			entry.Detail = fmt.Sprintf("output sha256:%s, %d frames", e.OutputSHA256, e.Frames)
		} else {
			entry.Outcome, entry.Detail = audit.Failed, msg
		}
		return l.audit.AppendTx(ctx, tx, entry)
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}

// ErrNotFound reports a payload that is not in this ledger.
var ErrNotFound = errors.New("ledger: no such export")

// Lookup finds the row a traced payload names.
func (l *Ledger) Lookup(ctx context.Context, p watermark.Payload) (*Entry, error) {
	e, err := scan(l.pool.QueryRow(ctx, `SELECT `+columns+` FROM ledger WHERE appliance = $1 AND serial = $2`,
		int32(p.Appliance()), int64(p.Serial())))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, p)
	}
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	return e, l.destructions(ctx, []*Entry{e})
}

// List returns up to limit rows, newest first.
func (l *Ledger) List(ctx context.Context, limit int) ([]*Entry, error) {
	rows, err := l.pool.Query(ctx, `SELECT `+columns+` FROM ledger ORDER BY serial DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	defer rows.Close()
	var es []*Entry
	for rows.Next() {
		e, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("ledger: %w", err)
		}
		es = append(es, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	return es, l.destructions(ctx, es)
}

// destructions fills in what the outer's receipts say of each copy's
// delivered packages (inner/outbox keeps them, by watermark payload).
func (l *Ledger) destructions(ctx context.Context, es []*Entry) error {
	payloads := make([]string, len(es))
	for i, e := range es {
		payloads[i] = e.Payload
	}
	copies, err := outbox.Copies(ctx, l.pool, payloads)
	if err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	for _, e := range es {
		c := copies[e.Payload]
		e.DestroyedAt, e.DestructionVerified = c.DestroyedAt, c.Verified && c.DestroyedAt != nil
	}
	return nil
}

// Appliance is the number in the high 16 bits of this ledger's marks.
func (l *Ledger) Appliance() uint16 { return l.appliance }
