package stats

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"sealgate/shared/i18n"
)

// Row is one export in a monthly report's list.
type Row struct {
	ID             int64
	Code           string // EX-2026-000042, as the export's page shows it
	RequestedAt    time.Time
	Camera         string
	CameraLocation string
	ReasonCode     string
	Agency         string
	State          string // as the export list shows it: after queued, the outbox's state
	DecidedBy      string
	DecidedAt      *time.Time
}

// rowsQuery lists the exports requested in [$1, $2) in the order they were
// requested. The state is shown as inner/export's views show it: an
// online export that was queued is where its package is.
const rowsQuery = `SELECT e.id, e.requested_at, c.name, c.location, e.reason_code, e.requester_agency,
	CASE WHEN e.state = 'queued' AND o.state = 'sending' THEN 'transferring'
		WHEN e.state = 'queued' AND o.state = 'delivered' THEN 'delivered'
		WHEN e.state = 'queued' AND o.state = 'refused' THEN 'refused' ELSE e.state END,
	coalesce(e.decided_by, ''), e.decided_at
	FROM export e JOIN footage f ON f.id = e.footage_id JOIN camera c ON c.id = f.camera_id LEFT JOIN outbox o ON o.id = e.outbox_id
	WHERE e.requested_at >= $1 AND e.requested_at < $2 ORDER BY e.requested_at, e.id LIMIT $3`

// List returns the exports requested in p, oldest first, at most limit of
// them; more says there were others past those.
func List(ctx context.Context, pool *pgxpool.Pool, p Period, limit int) (rs []Row, more bool, err error) {
	if err := p.Check(); err != nil {
		return nil, false, err
	}
	rows, err := pool.Query(ctx, rowsQuery, p.From, p.To, limit+1)
	if err != nil {
		return nil, false, fmt.Errorf("stats: list: %w", err)
	}
	rs, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (Row, error) {
		var r Row
		err := row.Scan(&r.ID, &r.RequestedAt, &r.Camera, &r.CameraLocation, &r.ReasonCode, &r.Agency, &r.State, &r.DecidedBy, &r.DecidedAt)
		// The code's year is the request's, as inner/export's view makes it.
		r.Code = fmt.Sprintf("EX-%d-%06d", r.RequestedAt.Year(), r.ID)
		return r, err
	})
	if err != nil {
		return nil, false, fmt.Errorf("stats: list: %w", err)
	}
	if len(rs) > limit {
		return rs[:limit], true, nil
	}
	return rs, false, nil
}

// LocalLayout shows a time in the report's zone, the one its months are
// of (i18n.Zone), naming the zone.
const LocalLayout = "2006-01-02 15:04:05 MST"

// Requested is when the export was requested, in the local zone.
func (r Row) Requested() string { return r.RequestedAt.In(i18n.Zone).Format(LocalLayout) }
