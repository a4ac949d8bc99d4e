// Package statstest seeds exports straight into the database for the
// statistics' tests: cameras, footage, exports with their times set, their
// outbox rows and their history, as the workflow would have left them.
package statstest

import (
	"context"
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Seeder inserts rows into one database.
type Seeder struct {
	Pool *pgxpool.Pool
	n    int
}

// Camera registers a camera and returns its id.
func (s *Seeder) Camera(t testing.TB, name, location string) int64 {
	t.Helper()
	var id int64
	err := s.Pool.QueryRow(context.Background(), `INSERT INTO camera (name, location, registered_by) VALUES ($1, $2, 'test') RETURNING id`,
		name, location).Scan(&id)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// Export is one export to seed. Zero values: masked off is Unmasked,
// online unless Offline, no decision when DecidedAt is zero.
type Export struct {
	Camera    int64
	Reason    string
	Agency    string
	Unmasked  bool
	Offline   bool
	State     string // the export's own state
	Requested time.Time
	Decided   time.Time // zero: undecided
	DecidedBy string
	// Outbox, for an online export that was queued: the outbox row's
	// state, and when it was delivered (outbox state delivered).
	Outbox      string
	DeliveredAt time.Time
	// HandedOver, for an offline export in state delivered: the time of
	// its hand-over event.
	HandedOver time.Time
}

// Export inserts e with a footage row of its own and returns its id.
func (s *Seeder) Export(t testing.TB, e Export) int64 {
	t.Helper()
	ctx := context.Background()
	s.n++
	sum := sha256.Sum256(fmt.Appendf(nil, "footage %d", s.n))
	var footage int64
	err := s.Pool.QueryRow(ctx, `INSERT INTO footage (camera_id, file_name, path, size, sha256, container, codec, width, height, fps,
		frames, duration_s, imported_by, retain_until) VALUES ($1, $2, $3, 1000, $4, 'mp4', 'h264', 640, 360, 10, 40, 4, 'test', $5)
		RETURNING id`, e.Camera, fmt.Sprintf("clip%d.mp4", s.n), fmt.Sprintf("/footage/clip%d.mp4", s.n), sum[:],
		e.Requested.Add(30*24*time.Hour)).Scan(&footage)
	if err != nil {
		t.Fatal(err)
	}
	var outbox *int64
	if e.Outbox != "" {
		pkg := sha256.Sum256(fmt.Appendf(nil, "package %d", s.n))
		var delivered *time.Time
		if !e.DeliveredAt.IsZero() {
			delivered = &e.DeliveredAt
		}
		var id int64
		if err := s.Pool.QueryRow(ctx, `INSERT INTO outbox (sha256, path, size, state, delivered_at) VALUES ($1, $2, 5000, $3, $4) RETURNING id`,
			pkg[:], fmt.Sprintf("/outbox/%d.sgpkg", s.n), e.Outbox, delivered).Scan(&id); err != nil {
			t.Fatal(err)
		}
		outbox = &id
	}
	delivery, reason := "online", ""
	if e.Offline {
		delivery = "offline"
	}
	if e.Unmasked {
		reason = "the suspect's face must be seen"
	}
	var decidedAt *time.Time
	var decidedBy *string
	if !e.Decided.IsZero() {
		by := e.DecidedBy
		if by == "" {
			by = "park.ap"
		}
		decidedAt, decidedBy = &e.Decided, &by
	}
	var id int64
	err = s.Pool.QueryRow(ctx, `INSERT INTO export (footage_id, state, reason_code, detail, requester_agency, document_no,
		recipient, viewing_days, masked, unmasked_reason, delivery, requested_by, requested_at, decided_by, decided_at, outbox_id, updated_at)
		VALUES ($1, $2, $3, 'case', $4, 'doc-1', '경위 김민수', 7, $5, $6, $7, 'kim.op', $8, $9, $10, $11, $8) RETURNING id`,
		footage, e.State, e.Reason, e.Agency, !e.Unmasked, reason, delivery, e.Requested, decidedBy, decidedAt, outbox).Scan(&id)
	if err != nil {
		t.Fatal(err)
	}
	s.event(t, id, "", "requested", e.Requested)
	if !e.HandedOver.IsZero() {
		s.event(t, id, "ready", "delivered", e.HandedOver)
	}
	return id
}

func (s *Seeder) event(t testing.TB, id int64, from, to string, at time.Time) {
	t.Helper()
	if _, err := s.Pool.Exec(context.Background(), `INSERT INTO export_event (export_id, at, actor, from_state, to_state) VALUES ($1, $2, 'test', $3, $4)`,
		id, at, from, to); err != nil {
		t.Fatal(err)
	}
}
