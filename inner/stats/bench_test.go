package stats_test

import (
	"context"
	"testing"
	"time"

	"sealgate/inner/stats"
	"sealgate/inner/store"
	"sealgate/shared/pgdb/pgtest"
)

// BenchmarkCompute500k computes a year's figures over 500,000 exports
// spread over five years (about 100,000 in the year), a third of them
// delivered online, a third offline.
func BenchmarkCompute500k(b *testing.B) {
	ctx := context.Background()
	pool := pgtest.NewPool(b, store.Migrations())
	_, err := pool.Exec(ctx, `
		INSERT INTO camera (name, location, registered_by) SELECT 'cam ' || i, 'loc ' || i, 'bench' FROM generate_series(1, 200) i;
		INSERT INTO footage (camera_id, file_name, path, size, sha256, container, codec, width, height, fps, frames, duration_s, imported_by, retain_until)
			SELECT 1 + i % 200, 'f', '/f/' || i, 1, sha256(i::text::bytea), 'mp4', 'h264', 1, 1, 1, 1, 1, 'bench', now() FROM generate_series(1, 1000) i;
		INSERT INTO outbox (sha256, path, size, state, delivered_at)
			SELECT sha256(('o' || i)::bytea), '/o/' || i, 1, 'delivered', timestamptz '2022-01-01' + i * interval '5 minutes' + interval '1 day'
			FROM generate_series(1, 500000) i WHERE i % 3 = 0;
		INSERT INTO export (footage_id, state, reason_code, detail, requester_agency, document_no, recipient, viewing_days,
			delivery, requested_by, requested_at, decided_by, decided_at, outbox_id)
			SELECT 1 + i % 1000, CASE WHEN i % 3 = 0 THEN 'queued' WHEN i % 3 = 1 THEN 'delivered' ELSE 'rejected' END,
				(ARRAY['theft', 'assault', 'traffic_accident', 'missing_person', 'property_damage', 'other'])[1 + i % 6], 'd', 'agency ' || i % 50,
				'doc', 'r', 7, CASE WHEN i % 3 = 1 THEN 'offline' ELSE 'online' END, 'op',
				timestamptz '2022-01-01' + i * interval '5 minutes', 'ap', timestamptz '2022-01-01' + i * interval '5 minutes' + interval '2 hours',
				CASE WHEN i % 3 = 0 THEN i / 3 END -- the outbox rows' ids, in order, in a fresh database
			FROM generate_series(1, 500000) i;
		INSERT INTO export_event (export_id, at, actor, from_state, to_state)
			SELECT id, requested_at + interval '3 days', 'bench', 'ready', 'delivered' FROM export WHERE state = 'delivered';
		ANALYZE`)
	if err != nil {
		b.Fatal(err)
	}
	p := stats.Period{From: time.Date(2024, 1, 1, 0, 0, 0, 0, kst), To: time.Date(2025, 1, 1, 0, 0, 0, 0, kst)}
	b.ResetTimer()
	for b.Loop() {
		r, err := stats.Compute(ctx, pool, p)
		if err != nil || r.Total == 0 {
			b.Fatal(r, err)
		}
	}
}
