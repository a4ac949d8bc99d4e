// Package outbox is the inner appliance's durable queue of sealed packages
// for the paired outer, in PostgreSQL. Several inner nodes may share it:
// each claims a package with FOR UPDATE SKIP LOCKED.
package outbox

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"sealgate/shared/atomicfile"
	"sealgate/shared/audit"
	"sealgate/shared/seal"
	"sealgate/transfer/send"
)

// reclaimAfter is when a package claimed by a sender that died is due
// again: a live sender touches its claims every send.TouchEvery.
const reclaimAfter = 3 * send.TouchEvery

// Entry is one row, for `outbox list`.
type Entry struct {
	ID          int64      `json:"id"`
	SHA256      string     `json:"sha256"`
	Size        int64      `json:"size"`
	Priority    int        `json:"priority"`
	State       string     `json:"state"`
	Attempts    int        `json:"attempts"`
	NextAttempt time.Time  `json:"next_attempt_at"`
	LastError   string     `json:"last_error,omitempty"`
	Resumed     int64      `json:"resumed_bytes"`
	CreatedAt   time.Time  `json:"created_at"`
	DeliveredAt *time.Time `json:"delivered_at,omitempty"`
	Receipt     string     `json:"receipt,omitempty"` // hex of the outer's signed receipt (transfer.ParseReply)
	ViewUntil   *time.Time `json:"view_until,omitempty"`
	Destruction
}

// Outbox is the queue; packages are copied into dir when added.
type Outbox struct {
	pool  *pgxpool.Pool
	dir   string
	audit *audit.Log
}

// New returns the outbox keeping its copies in dir.
func New(pool *pgxpool.Pool, dir string, log *audit.Log) (*Outbox, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	return &Outbox{pool: pool, dir: dir, audit: log}, nil
}

// ErrQueued reports a package already in the outbox.
var ErrQueued = errors.New("outbox: package already queued")

// Add copies the package at src into the outbox, hashing it on the way,
// verifies the copy against signer (only this appliance's own packages
// leave it; what is sent is exactly what was verified), and queues it.
func (o *Outbox) Add(ctx context.Context, actor, src string, signer ed25519.PublicKey, priority int) (*Entry, error) {
	pkg, manifest, err := o.copyIn(src, signer)
	if err != nil {
		return nil, err
	}
	name := hex.EncodeToString(pkg.SHA256[:])
	var e Entry
	err = pgx.BeginFunc(ctx, o.pool, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `INSERT INTO outbox (sha256, path, size, priority, view_until, watermark) VALUES ($1, $2, $3, $4, $5, $6)
			RETURNING id, state, created_at, view_until`, pkg.SHA256[:], pkg.Path, pkg.Size, priority, viewUntil(manifest), watermarkOf(manifest)).
			Scan(&e.ID, &e.State, &e.CreatedAt, &e.ViewUntil)
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "23505" {
			return fmt.Errorf("%w: %s", ErrQueued, name)
		}
		if err != nil {
			return fmt.Errorf("outbox: queue: %w", err)
		}
		return o.audit.AppendTx(ctx, tx, audit.Entry{Actor: actor, Action: "transfer.queue", Target: name,
			Detail: fmt.Sprintf("export %s, %d bytes", manifest.ExportCode, pkg.Size)})
	})
	if err != nil {
		return nil, err
	}
	e.SHA256, e.Size, e.Priority = name, pkg.Size, priority
	return &e, nil
}

// copyIn copies src into the outbox as <sha256>.sgpkg in one pass (hashing
// as it copies), then verifies the copy: two reads of the package, not
// three. The copy is published create-only (synced, linked into place);
// if that name is taken, by the same package added before, the file there
// is kept once its hash checks out. Nothing is left behind on failure.
func (o *Outbox) copyIn(src string, signer ed25519.PublicKey) (send.Package, *seal.Manifest, error) {
	in, err := os.Open(src)
	if err != nil {
		return send.Package{}, nil, fmt.Errorf("outbox: %w", err)
	}
	defer in.Close()
	tmp, err := atomicfile.Create(filepath.Join(o.dir, "adding"), 0o600)
	if err != nil {
		return send.Package{}, nil, fmt.Errorf("outbox: %w", err)
	}
	defer tmp.Abort()
	h := sha256.New()
	w := bufio.NewWriterSize(io.MultiWriter(tmp, h), 1<<20)
	size, err := io.Copy(w, bufio.NewReaderSize(in, 1<<20))
	if err == nil {
		err = w.Flush()
	}
	if err != nil {
		return send.Package{}, nil, fmt.Errorf("outbox: copy %s: %w", src, err)
	}
	copied, err := os.Open(tmp.TempName())
	if err != nil {
		return send.Package{}, nil, fmt.Errorf("outbox: %w", err)
	}
	defer copied.Close()
	p, err := seal.Verify(bufio.NewReaderSize(copied, 1<<20), signer)
	if err != nil {
		return send.Package{}, nil, fmt.Errorf("outbox: %s: %w", src, err)
	}
	pkg := send.Package{Size: size}
	copy(pkg.SHA256[:], h.Sum(nil))
	pkg.Path = filepath.Join(o.dir, hex.EncodeToString(pkg.SHA256[:])+".sgpkg")
	if err := tmp.CommitAs(pkg.Path); errors.Is(err, fs.ErrExist) {
		// Added before (queued, or left by an add whose queueing failed):
		// keep that file if it is this very package.
		if err := sameContent(pkg); err != nil {
			return send.Package{}, nil, err
		}
	} else if err != nil {
		return send.Package{}, nil, fmt.Errorf("outbox: %w", err)
	}
	return pkg, p.Manifest, nil
}

// sameContent checks that the file at pkg.Path has pkg's size and SHA-256.
func sameContent(pkg send.Package) error {
	f, err := os.Open(pkg.Path)
	if err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, bufio.NewReaderSize(f, 1<<20))
	if err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	if n != pkg.Size || !bytes.Equal(h.Sum(nil), pkg.SHA256[:]) {
		return fmt.Errorf("outbox: %s exists with other content; move it away", pkg.Path)
	}
	return nil
}

// List returns every package, most urgent first.
func (o *Outbox) List(ctx context.Context) ([]Entry, error) {
	rows, err := o.pool.Query(ctx, `SELECT id, sha256, size, priority, state, attempts, next_attempt_at, last_error,
		resumed_bytes, created_at, delivered_at, coalesce(encode(receipt, 'hex'), ''), view_until, `+destructionColumns+`
		FROM outbox ORDER BY state = 'delivered', priority DESC, created_at`)
	if err != nil {
		return nil, fmt.Errorf("outbox: list: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Entry, error) {
		var e Entry
		var sum []byte
		dest := []any{&e.ID, &sum, &e.Size, &e.Priority, &e.State, &e.Attempts, &e.NextAttempt, &e.LastError, &e.Resumed, &e.CreatedAt, &e.DeliveredAt,
			&e.Receipt, &e.ViewUntil}
		err := r.Scan(append(dest, e.Destruction.fields()...)...)
		e.SHA256 = hex.EncodeToString(sum)
		return e, err
	})
}

// claim takes the most urgent due package, unchecked: [Sending.Next]
// checks it before a sender gets it.
func (o *Outbox) claim(ctx context.Context) (*send.Item, error) {
	var it send.Item
	var sum []byte
	err := o.pool.QueryRow(ctx, `
		UPDATE outbox SET state = 'sending', claimed_at = now(), attempts = attempts + 1
		WHERE id = (SELECT id FROM outbox
		            WHERE (state = 'queued' AND next_attempt_at <= now())
		               OR (state = 'sending' AND claimed_at < now() - $1::interval)
		            ORDER BY priority DESC, created_at FOR UPDATE SKIP LOCKED LIMIT 1)
		RETURNING id, sha256, path, size`, reclaimAfter.String()).Scan(&it.ID, &sum, &it.Package.Path, &it.Package.Size)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("outbox: claim: %w", err)
	}
	copy(it.Package.SHA256[:], sum)
	return &it, nil
}

// Touch implements send.Queue.
func (o *Outbox) Touch(ctx context.Context, ids []int64) error {
	if _, err := o.pool.Exec(ctx, `UPDATE outbox SET claimed_at = now() WHERE id = ANY($1) AND state = 'sending'`, ids); err != nil {
		return fmt.Errorf("outbox: touch claims: %w", err)
	}
	return nil
}

// Delivered implements send.Queue.
func (o *Outbox) Delivered(ctx context.Context, id int64, res send.Result) error {
	return pgx.BeginFunc(ctx, o.pool, func(tx pgx.Tx) error {
		var sum []byte
		if err := tx.QueryRow(ctx, `UPDATE outbox SET state = 'delivered', delivered_at = now(), last_error = '', resumed_bytes = $2,
			receipt = $3, next_query_at = NULL WHERE id = $1 RETURNING sha256`, id, res.Resumed, res.Receipt).Scan(&sum); err != nil {
			return fmt.Errorf("outbox: delivered: %w", err)
		}
		// next_query_at stays NULL: due at the sender's next round, whose
		// answer (held, its use) starts the sender's schedule (send.NextQuery).
		return o.audit.AppendTx(ctx, tx, audit.Entry{Actor: "system", Action: "transfer.deliver", Target: hex.EncodeToString(sum),
			Detail: fmt.Sprintf("status %d, %d bytes sent, resumed from %d; receipt %x", res.Status, res.Sent, res.Resumed, res.Receipt)})
	})
}

// Failed implements send.Queue: mark refused when the outer's refusal is
// final; else due again in a second (a failed link, a busy receiver: the
// sender's reconnecting paces those), or after a backoff that grows with
// each refusal that may pass later (quota, disk full, hash mismatch).
func (o *Outbox) Failed(ctx context.Context, id int64, cause error, final, backoff bool) error {
	return pgx.BeginFunc(ctx, o.pool, func(tx pgx.Tx) error {
		state := "queued"
		if final {
			state = "refused"
		}
		inc := 0
		if backoff {
			inc = 1
		}
		var refusals int
		var sum []byte
		if err := tx.QueryRow(ctx, `UPDATE outbox SET state = $2, last_error = $3, claimed_at = NULL, refusals = refusals + $4
			WHERE id = $1 RETURNING refusals, sha256`, id, state, cause.Error(), inc).Scan(&refusals, &sum); err != nil {
			return fmt.Errorf("outbox: failed: %w", err)
		}
		wait := time.Second
		if backoff {
			wait = send.Backoff(refusals)
		}
		if _, err := tx.Exec(ctx, `UPDATE outbox SET next_attempt_at = now() + $2::interval WHERE id = $1`, id, wait.String()); err != nil {
			return fmt.Errorf("outbox: schedule retry: %w", err)
		}
		if !final {
			return nil
		}
		return o.audit.AppendTx(ctx, tx, audit.Entry{Actor: "system", Action: "transfer.refused", Target: hex.EncodeToString(sum),
			Outcome: audit.Failed, Detail: cause.Error()})
	})
}

// Stats are the queue's depth and the age of its oldest waiting package.
func (o *Outbox) Stats(ctx context.Context) (depth int, oldest time.Duration, err error) {
	var secs float64
	err = o.pool.QueryRow(ctx, `SELECT count(*), coalesce(extract(epoch FROM now() - min(created_at)), 0)
		FROM outbox WHERE state IN ('queued', 'sending')`).Scan(&depth, &secs)
	return depth, time.Duration(secs * float64(time.Second)), err
}

// States lists the states a queued package goes through.
var States = []string{"queued", "sending", "delivered", "refused"}

// Counts is the number of packages in each state (every one of States).
func (o *Outbox) Counts(ctx context.Context) (map[string]int, error) {
	counts := map[string]int{}
	for _, st := range States {
		counts[st] = 0
	}
	rows, err := o.pool.Query(ctx, `SELECT state, count(*) FROM outbox GROUP BY state`)
	if err != nil {
		return nil, fmt.Errorf("outbox: count: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, fmt.Errorf("outbox: count: %w", err)
		}
		counts[st] = n
	}
	return counts, rows.Err()
}

// Lookup returns the id of the queued package with this SHA-256 (hex).
func (o *Outbox) Lookup(ctx context.Context, sha256 string) (int64, error) {
	sum, err := hex.DecodeString(sha256)
	if err != nil {
		return 0, fmt.Errorf("outbox: %w", err)
	}
	var id int64
	if err := o.pool.QueryRow(ctx, `SELECT id FROM outbox WHERE sha256 = $1`, sum).Scan(&id); err != nil {
		return 0, fmt.Errorf("outbox: lookup %s: %w", sha256, err)
	}
	return id, nil
}
