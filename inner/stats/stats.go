package stats

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"sealgate/inner/export"
)

// TopAgencies and TopCameras are how many agencies and cameras are named
// one by one; the rest are counted together, so the totals stay exact.
const (
	TopAgencies = 10
	TopCameras  = 15
)

// Report holds the figures for the exports requested in Period.
type Report struct {
	Period Period
	Total  int
	// Months has one entry for each month of the period, in order, the
	// months without exports included.
	Months []MonthCount
	// Reasons has every reason code in export.ReasonCodes' order.
	Reasons []Count
	// Agencies are the TopAgencies agencies with the most requests (ties
	// by name); OtherAgencies counts the exports of the rest, of
	// OtherAgencyNames distinct agencies.
	Agencies         []Count
	OtherAgencies    int
	OtherAgencyNames int
	// Cameras likewise, by the camera the footage came from.
	Cameras      []CameraCount
	OtherCameras int
	Outcomes     Outcomes
	// Masked is the share of all exports made with masking on;
	// ApprovedMasked that of the approved ones.
	Masked, ApprovedMasked Rate
	// Refused is the share of decisions that were rejections: N rejected
	// of Of decided (approved or rejected).
	Refused Rate
	// Decision is request → approval (approved exports); Delivery is
	// approval → delivery and Overall request → delivery (delivered ones).
	Decision, Delivery, Overall Turnaround
}

// MonthCount is the number of exports requested in one month.
type MonthCount struct {
	Month Period
	N     int
}

// Count is the number of exports with one key (a reason code, an agency).
type Count struct {
	Key string
	N   int
}

// CameraCount is the number of exports of one camera's footage.
type CameraCount struct {
	ID             int64
	Name, Location string
	N              int
}

// Outcomes says what became of the exports, each counted once: the five
// add up to the total.
type Outcomes struct {
	Delivered, Rejected, Cancelled, Failed, InProgress int
}

// Rate is N of Of.
type Rate struct{ N, Of int }

// Percent is the rate as "37.5%", or "—" when there is nothing to divide.
func (r Rate) Percent() string {
	if r.Of == 0 {
		return "—"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(r.N)/float64(r.Of))
}

// Turnaround is the median and the 90th percentile of N durations.
type Turnaround struct {
	N           int
	Median, P90 time.Duration
}

// Hours writes d in hours with one decimal ("—" when there were none).
func (t Turnaround) Hours(d time.Duration) string {
	if t.N == 0 {
		return "—"
	}
	return fmt.Sprintf("%.1f", d.Hours())
}

// periodExports is every export requested in [$1, $2), with what the
// figures need: whether and when it was delivered and its outcome.
// Delivered means the package reached its recipient: online, the outer's
// receipt marked its outbox row delivered (delivered_at is the receipt's
// arrival; the export itself stays queued); offline, the hand-over moved
// the export to delivered (its time is that export_event's). A package the
// outer refused for good failed, as a failed export did. "approved" is
// decided and not rejected: an approved export cancelled later was
// approved all the same.
const periodExports = `WITH x AS (
	SELECT e.id, e.reason_code, e.requester_agency AS agency, c.id AS camera_id, c.name AS camera, c.location, e.masked, e.state,
		e.requested_at, e.decided_at, e.decided_at IS NOT NULL AND e.state <> 'rejected' AS approved,
		(e.delivery = 'online' AND o.state = 'delivered') OR (e.delivery = 'offline' AND e.state = 'delivered') AS delivered,
		CASE WHEN e.delivery = 'online' AND o.state = 'delivered' THEN o.delivered_at
			WHEN e.delivery = 'offline' AND e.state = 'delivered' THEN
				(SELECT min(ev.at) FROM export_event ev WHERE ev.export_id = e.id AND ev.to_state = 'delivered') END AS delivered_at,
		coalesce(o.state, '') AS outbox_state
	FROM export e JOIN footage f ON f.id = e.footage_id JOIN camera c ON c.id = f.camera_id LEFT JOIN outbox o ON o.id = e.outbox_id
	WHERE e.requested_at >= $1 AND e.requested_at < $2
), y AS (
	SELECT x.*, CASE WHEN delivered THEN 'delivered' WHEN state IN ('rejected', 'cancelled') THEN state
		WHEN state = 'failed' OR outbox_state = 'refused' THEN 'failed' ELSE 'in_progress' END AS outcome
	FROM x
) `

// totals are the period's single figures in one pass. The turnarounds are
// percentile_cont over seconds: the median of an even count is the mean
// of the middle two, the 90th percentile interpolates between neighbours
// as PostgreSQL documents.
const totals = periodExports + `SELECT count(*),
	count(*) FILTER (WHERE outcome = 'delivered'), count(*) FILTER (WHERE outcome = 'rejected'),
	count(*) FILTER (WHERE outcome = 'cancelled'), count(*) FILTER (WHERE outcome = 'failed'),
	count(*) FILTER (WHERE outcome = 'in_progress'),
	count(*) FILTER (WHERE masked), count(*) FILTER (WHERE approved), count(*) FILTER (WHERE approved AND masked),
	count(*) FILTER (WHERE decided_at IS NOT NULL), count(*) FILTER (WHERE state = 'rejected'),
	count(*) FILTER (WHERE approved),
	percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM decided_at - requested_at)::float8) FILTER (WHERE approved),
	percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM decided_at - requested_at)::float8) FILTER (WHERE approved),
	count(*) FILTER (WHERE approved AND delivered_at IS NOT NULL),
	percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM delivered_at - decided_at)::float8) FILTER (WHERE approved AND delivered_at IS NOT NULL),
	percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM delivered_at - decided_at)::float8) FILTER (WHERE approved AND delivered_at IS NOT NULL),
	count(delivered_at),
	percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM delivered_at - requested_at)::float8),
	percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM delivered_at - requested_at)::float8)
	FROM y`

// byMonth counts each month's exports against month bounds computed in Go
// ($3, $4: the months' starts and ends in the local zone), so a month
// without exports is a row of zero and no time zone name is needed in SQL.
const byMonth = periodExports + `SELECT m.i, count(y.id)
	FROM unnest($3::timestamptz[], $4::timestamptz[]) WITH ORDINALITY AS m(s, e, i)
	LEFT JOIN y ON y.requested_at >= m.s AND y.requested_at < m.e GROUP BY m.i ORDER BY m.i`

// Compute returns the figures for the exports requested in p, read in one
// snapshot so they agree with each other.
func Compute(ctx context.Context, pool *pgxpool.Pool, p Period) (*Report, error) {
	if err := p.Check(); err != nil {
		return nil, err
	}
	r := &Report{Period: p}
	err := pgx.BeginTxFunc(ctx, pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if err := r.totals(ctx, tx); err != nil {
			return err
		}
		if err := r.months(ctx, tx); err != nil {
			return err
		}
		if err := r.reasons(ctx, tx); err != nil {
			return err
		}
		if err := r.agencies(ctx, tx); err != nil {
			return err
		}
		return r.cameras(ctx, tx)
	})
	if err != nil {
		return nil, fmt.Errorf("stats: %w", err)
	}
	return r, nil
}

func (r *Report) totals(ctx context.Context, tx pgx.Tx) error {
	o := &r.Outcomes
	var dm, dp, lm, lp, om, op *float64
	err := tx.QueryRow(ctx, totals, r.Period.From, r.Period.To).Scan(&r.Total,
		&o.Delivered, &o.Rejected, &o.Cancelled, &o.Failed, &o.InProgress,
		&r.Masked.N, &r.ApprovedMasked.Of, &r.ApprovedMasked.N, &r.Refused.Of, &r.Refused.N,
		&r.Decision.N, &dm, &dp, &r.Delivery.N, &lm, &lp, &r.Overall.N, &om, &op)
	if err != nil {
		return fmt.Errorf("totals: %w", err)
	}
	r.Masked.Of = r.Total
	r.Decision.Median, r.Decision.P90 = seconds(dm), seconds(dp)
	r.Delivery.Median, r.Delivery.P90 = seconds(lm), seconds(lp)
	r.Overall.Median, r.Overall.P90 = seconds(om), seconds(op)
	return nil
}

func seconds(s *float64) time.Duration {
	if s == nil {
		return 0
	}
	return time.Duration(math.Round(*s * 1e9))
}

func (r *Report) months(ctx context.Context, tx pgx.Tx) error {
	ms := r.Period.Months()
	starts, ends := make([]time.Time, len(ms)), make([]time.Time, len(ms))
	for i, m := range ms {
		starts[i], ends[i] = m.From, m.To
	}
	rows, err := tx.Query(ctx, byMonth, r.Period.From, r.Period.To, starts, ends)
	if err != nil {
		return fmt.Errorf("by month: %w", err)
	}
	counts, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (int, error) {
		var i, n int
		return n, row.Scan(&i, &n)
	})
	if err != nil {
		return fmt.Errorf("by month: %w", err)
	}
	for i, m := range ms {
		r.Months = append(r.Months, MonthCount{Month: m, N: counts[i]})
	}
	return nil
}

func (r *Report) reasons(ctx context.Context, tx pgx.Tx) error {
	counts, err := grouped(ctx, tx, r.Period, `SELECT reason_code, count(*) FROM y GROUP BY 1`)
	if err != nil {
		return fmt.Errorf("by reason: %w", err)
	}
	n := map[string]int{}
	for _, c := range counts {
		n[c.Key] = c.N
	}
	for _, code := range export.ReasonCodes {
		r.Reasons = append(r.Reasons, Count{Key: code, N: n[code]})
	}
	return nil
}

func (r *Report) agencies(ctx context.Context, tx pgx.Tx) error {
	counts, err := grouped(ctx, tx, r.Period, `SELECT agency, count(*) FROM y GROUP BY 1 ORDER BY 2 DESC, 1`)
	if err != nil {
		return fmt.Errorf("by agency: %w", err)
	}
	for i, c := range counts {
		if i < TopAgencies {
			r.Agencies = append(r.Agencies, c)
		} else {
			r.OtherAgencies += c.N
			r.OtherAgencyNames++
		}
	}
	return nil
}

func grouped(ctx context.Context, tx pgx.Tx, p Period, query string) ([]Count, error) {
	rows, err := tx.Query(ctx, periodExports+query, p.From, p.To)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Count, error) {
		var c Count
		return c, row.Scan(&c.Key, &c.N)
	})
}

func (r *Report) cameras(ctx context.Context, tx pgx.Tx) error {
	rows, err := tx.Query(ctx, periodExports+`SELECT camera_id, camera, location, count(*) FROM y GROUP BY 1, 2, 3 ORDER BY 4 DESC, 2, 1`,
		r.Period.From, r.Period.To)
	if err != nil {
		return fmt.Errorf("by camera: %w", err)
	}
	counts, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (CameraCount, error) {
		var c CameraCount
		return c, row.Scan(&c.ID, &c.Name, &c.Location, &c.N)
	})
	if err != nil {
		return fmt.Errorf("by camera: %w", err)
	}
	for i, c := range counts {
		if i < TopCameras {
			r.Cameras = append(r.Cameras, c)
		} else {
			r.OtherCameras += c.N
		}
	}
	return nil
}
