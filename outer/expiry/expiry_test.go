package expiry_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"sealgate/outer/expiry"
	"sealgate/outer/pkgstore"
	"sealgate/outer/store"
	"sealgate/shared/audit"
	"sealgate/shared/pgdb/pgtest"
	"sealgate/shared/seal"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// Packages are destroyed when their viewing window ends (a sweep catches
// up on every window that ended before it), or when an admin revokes one
// with a reason; a destroyed package's file is gone, its row says when,
// by whom and why, and the audit log has it.
func TestExpiryAndRevocation(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.NewPool(t, store.Migrations())
	key := make([]byte, 32)
	rand.Read(key)
	log := audit.New(pool, key)
	records := pkgstore.New(pool, log)
	dir, err := pkgstore.OpenDir(t.TempDir(), records)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	keep := func(body string, m *seal.Manifest) string {
		t.Helper()
		sum := sha256.Sum256([]byte(body))
		data, _ := dir.Incoming(sum)
		os.WriteFile(data, []byte(body), 0o600)
		if err := dir.Keep(ctx, "city-hall", sum, int64(len(body)), data, m); err != nil {
			t.Fatal(err)
		}
		return filepath.Base(dir.Path(sum))[:64]
	}
	window := func(code string, until time.Duration) *seal.Manifest {
		return &seal.Manifest{ExportID: "id-" + code, ExportCode: code, Recipient: seal.Recipient{Name: "officer.kim", Agency: "강남경찰서"},
			ViewFrom: now.Add(-24 * time.Hour), ViewUntil: now.Add(until)}
	}
	ended := keep("ended an hour ago", window("SG-2026-000001", -time.Hour))
	open := keep("ends in an hour", window("SG-2026-000002", time.Hour))
	bare := keep("recovered without a manifest", nil)

	s := expiry.New(records, slog.New(slog.DiscardHandler))
	clock := now
	expiry.SetClock(s, func() time.Time { return clock })
	state := func(id string) pkgstore.Package {
		t.Helper()
		ps, err := records.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range ps {
			if p.ID == id {
				return p
			}
		}
		t.Fatalf("package %s not listed", id)
		return pkgstore.Package{}
	}
	onDisk := func(id string) bool { _, err := os.Stat(state(id).Path); return err == nil }

	if n, err := s.Sweep(ctx); err != nil || n != 1 {
		t.Fatalf("first sweep: %d, %v; want 1", n, err)
	}
	if p := state(ended); p.State != "destroyed" || p.Destroyed == nil || p.DestroyedBy != "system" || onDisk(ended) {
		t.Fatalf("the ended package: %+v (on disk %v)", p, onDisk(ended))
	}
	if p := state(open); p.State != "available" || !onDisk(open) || p.Recipient != "officer.kim" || p.ExportID != "id-SG-2026-000002" ||
		p.ExpiresAt == nil || !p.ExpiresAt.Equal(now.Add(time.Hour)) {
		t.Fatalf("the open package: %+v", p)
	}
	clock = now.Add(2 * time.Hour) // the daemon was down when it ended
	if n, err := s.Sweep(ctx); err != nil || n != 1 || state(open).State != "destroyed" || onDisk(open) {
		t.Fatalf("catching up: %d, %v, %+v", n, err, state(open))
	}
	if p := state(bare); p.State != "available" || p.ExpiresAt != nil {
		t.Fatalf("a package without a window expired: %+v", p)
	}

	if _, err := expiry.Revoke(ctx, records, "admin.lee", bare, "no"); !errors.Is(err, expiry.ErrReason) {
		t.Fatalf("revoked without a reason: %v", err)
	}
	if _, err := expiry.Revoke(ctx, records, "admin.lee", bare, "수사 종결 통보 (공문 2026-77)"); err != nil {
		t.Fatal(err)
	}
	if p := state(bare); p.State != "destroyed" || p.DestroyedBy != "admin.lee" || p.DestroyedReason != "revoked: 수사 종결 통보 (공문 2026-77)" || onDisk(bare) {
		t.Fatalf("revoked: %+v", p)
	}
	if _, err := expiry.Revoke(ctx, records, "admin.lee", bare, "twice over"); !errors.Is(err, pkgstore.ErrDestroyed) {
		t.Fatalf("revoked twice: %v", err)
	}
	if _, err := expiry.Revoke(ctx, records, "admin.lee", "00ff", "no such package"); !errors.Is(err, pkgstore.ErrNotFound) {
		t.Fatalf("revoked an unknown package: %v", err)
	}
	var destroyed int
	pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'package.destroy'`).Scan(&destroyed)
	if destroyed != 3 {
		t.Errorf("%d destructions audited, want 3", destroyed)
	}
	if _, err := log.Verify(ctx); err != nil {
		t.Fatal(err)
	}
}
