// Package ledgertest fills an inner database with an export ledger the size
// a control centre's grows to, for the ledger's tests and benchmarks.
package ledgertest

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"sealgate/inner/requester"
	"sealgate/shared/account"
)

// Agencies, Reasons and Cameras are what Seed spreads its rows across:
// export i is filed by Agencies[i%len], for Reasons[i%len], on camera
// CAM-(i%Cameras+1).
var (
	Agencies = []string{"강남경찰서", "서초경찰서", "송파경찰서", "관악경찰서", "Mapo Police Station", "영등포경찰서", "서울지방경찰청"}
	Reasons  = []string{"theft", "assault", "traffic_accident", "missing_person", "property_damage", "other"}
)

// Cameras is how many cameras Seed registers.
const Cameras = 40

// States of export i by i%10, as Seed files them: mostly delivered, some
// waiting, refused, stopped or failed. An online delivered export is
// queued with its outbox row delivered.
var States = [10]string{"queued", "queued", "queued", "queued", "ready", "delivered", "requested", "rejected", "cancelled", "failed"}

// Seed files n exports whose filing times step back evenly from until over
// span: export i (1…n) was filed i steps before until, and the ids grow
// with time. Its SQL writes the rows in bulk, once per database; the
// requesters are then sealed under pii as a daemon seals those filed
// before encryption (requester.SealLegacy).
func Seed(ctx context.Context, pool *pgxpool.Pool, pii *account.PII, n int, until time.Time, span time.Duration) error {
	agencies, reasons := pgArray(Agencies), pgArray(Reasons)
	step := span.Microseconds() / int64(max(n, 1))
	for _, q := range []string{
		fmt.Sprintf(`INSERT INTO camera (name, location, registered_by)
			SELECT 'CAM-' || lpad(i::text, 3, '0'), '서울시 구역 ' || i, 'seed' FROM generate_series(1, %d) i`, Cameras),
		`INSERT INTO footage (camera_id, file_name, path, size, sha256, container, codec, width, height, fps, frames, duration_s,
			started_at, imported_by, retain_until)
			SELECT c.id, c.name || '.mp4', '/seed/' || c.id || '.mp4', 1000000, sha256(c.id::text::bytea), 'mp4', 'h264', 1920, 1080, 30, 9000, 300,
				timestamptz '2026-01-01 09:00:00+09', 'seed', now() + interval '1 year'
			FROM camera c WHERE c.registered_by = 'seed'`,
		fmt.Sprintf(`INSERT INTO export (footage_id, state, reason_code, detail, requester_agency, document_no, recipient,
			viewing_days, clip_from_s, clip_to_s, masked, unmasked_reason, delivery, requested_by, requested_at, decided_by, decided_at, decision_reason,
			masked_faces, masked_plates, masked_people, manual_tracks, excluded_tracks, package_sha256)
			SELECT f.id, s.state, (%[2]s)[1 + i %% %[3]d], '사건 ' || i || '번 관련 영상', (%[4]s)[1 + i %% %[5]d],
				'수사-2026-' || i, 'officer.' || (i %% 31), 7, 10, 70, i %% 20 <> 0, CASE WHEN i %% 20 = 0 THEN '피해자 본인 요청, 얼굴 식별 필요' ELSE '' END,
				CASE WHEN s.state IN ('ready', 'delivered') THEN 'offline' ELSE 'online' END, 'operator.lee', s.at, d.by, d.at, CASE WHEN s.state = 'rejected' THEN '요건 미비' ELSE '' END,
				m.faces, m.plates, m.people, m.manual, m.excluded, CASE WHEN s.state IN ('queued', 'ready', 'delivered') THEN sha256(('pkg' || i)::bytea) END
			FROM generate_series(1, %[1]d) i
			CROSS JOIN LATERAL (SELECT (%[7]s)[1 + i %% 10] AS state,
				$1::timestamptz - make_interval(secs => i * $2::bigint / 1e6) AS at) s
			CROSS JOIN LATERAL (SELECT CASE WHEN s.state NOT IN ('requested', 'cancelled') THEN 'approver.park' END AS by,
				CASE WHEN s.state NOT IN ('requested', 'cancelled') THEN s.at + make_interval(mins => 5 + i %% 600) END AS at) d
			CROSS JOIN LATERAL (SELECT CASE WHEN i %% 20 <> 0 AND s.state IN ('queued', 'ready', 'delivered') THEN i %% 7 END AS faces,
				CASE WHEN i %% 20 <> 0 AND s.state IN ('queued', 'ready', 'delivered') THEN i %% 3 END AS plates,
				CASE WHEN i %% 20 <> 0 AND s.state IN ('queued', 'ready', 'delivered') THEN i %% 5 END AS people,
				CASE WHEN i %% 20 <> 0 AND s.state IN ('queued', 'ready', 'delivered') THEN i %% 2 END AS manual,
				CASE WHEN i %% 20 <> 0 AND s.state IN ('queued', 'ready', 'delivered') THEN i %% 2 END AS excluded) m
			JOIN camera c ON c.name = 'CAM-' || lpad((1 + i %% %[6]d)::text, 3, '0') AND c.registered_by = 'seed'
			JOIN footage f ON f.camera_id = c.id
			ORDER BY i DESC`, n, reasons, len(Reasons), agencies, len(Agencies), Cameras, pgArray(States[:])),
		// Online packages: queued for the outer, delivered with the
		// outer's receipt an hour after the decision.
		`INSERT INTO outbox (sha256, path, size, state, created_at, delivered_at)
			SELECT e.package_sha256, '/seed/outbox/' || e.id, 1000000, 'delivered', e.decided_at + interval '30 minutes', e.decided_at + interval '1 hour'
			FROM export e WHERE e.requested_by = 'operator.lee' AND e.state = 'queued' AND e.outbox_id IS NULL`,
		`UPDATE export e SET outbox_id = o.id FROM outbox o WHERE o.path = '/seed/outbox/' || e.id AND e.outbox_id IS NULL`,
		// Offline packages handed over: the event that says when.
		`INSERT INTO export_event (export_id, at, actor, from_state, to_state, reason)
			SELECT e.id, e.decided_at + interval '2 hours', 'operator.lee', 'ready', 'delivered', 'USB 전달'
			FROM export e WHERE e.requested_by = 'operator.lee' AND e.state = 'delivered'`,
		// The requesters, as rows filed before they were encrypted:
		// SealLegacy seals them below, as at a daemon's start.
		`INSERT INTO export_requester_legacy (export_id, name, phone)
			SELECT e.id, '경위 김' || (split_part(e.document_no, '-', 3)::int % 97), '010-1234-' || lpad((e.id % 10000)::text, 4, '0')
			FROM export e WHERE e.requested_by = 'operator.lee' AND e.requester_name_sealed IS NULL`,
	} {
		var args []any
		if strings.Contains(q, "$1") {
			args = []any{until, step}
		}
		if _, err := pool.Exec(ctx, q, args...); err != nil {
			return fmt.Errorf("ledgertest: seed: %w", err)
		}
	}
	if _, err := requester.SealLegacy(ctx, pool, pii); err != nil {
		return fmt.Errorf("ledgertest: seed: %w", err)
	}
	// What autovacuum does on a live ledger: statistics for the planner,
	// and the visibility map that lets a count read an index alone.
	if _, err := pool.Exec(ctx, `VACUUM ANALYZE`); err != nil {
		return fmt.Errorf("ledgertest: seed: %w", err)
	}
	return nil
}

// RequesterName is the requesting officer of export i as Seed files it
// (one of 97 names; its phone is 010-1234-<last four digits of the id>).
func RequesterName(i int) string { return fmt.Sprintf("경위 김%d", i%97) }

// pgArray is a text array literal of ss for the seed's SQL.
func pgArray(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = "'" + strings.ReplaceAll(s, "'", "''") + "'"
	}
	return "ARRAY[" + strings.Join(q, ", ") + "]"
}
