package expiry_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"sealgate/outer/expiry"
	"sealgate/outer/pkgstore"
	"sealgate/outer/store"
	"sealgate/shared/audit"
	"sealgate/shared/pgdb/pgtest"
	"sealgate/shared/seal"
)

// The overdue gauges count what the table holds past its window: a
// package whose window ended is overdue until a sweep destroys it, one
// still open never is (docs/monitoring.md).
func TestOverdueMetrics(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.NewPool(t, store.Migrations())
	key := make([]byte, 32)
	rand.Read(key)
	records := pkgstore.New(pool, audit.New(pool, key))
	dir, err := pkgstore.OpenDir(t.TempDir(), records)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	for body, until := range map[string]time.Duration{"ended ten minutes ago": -10 * time.Minute, "ended a minute ago": -time.Minute, "ends in an hour": time.Hour} {
		sum := sha256.Sum256([]byte(body))
		data, _ := dir.Incoming(sum)
		os.WriteFile(data, []byte(body), 0o600)
		m := &seal.Manifest{ExportID: body, ExportCode: "SG-2026-000001", Recipient: seal.Recipient{Name: "officer.kim"},
			ViewFrom: now.Add(-24 * time.Hour), ViewUntil: now.Add(until)}
		if err := dir.Keep(ctx, "city-hall", sum, int64(len(body)), data, m); err != nil {
			t.Fatal(err)
		}
	}
	s := expiry.New(records, slog.New(slog.DiscardHandler))
	expiry.SetClock(s, func() time.Time { return now })
	reg := prometheus.NewRegistry()
	if err := s.Register(reg); err != nil {
		t.Fatal(err)
	}
	gauges := func() (n, age float64) {
		t.Helper()
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			switch mf.GetName() {
			case "sealgate_expiry_overdue_packages":
				n = mf.GetMetric()[0].GetGauge().GetValue()
			case "sealgate_expiry_overdue_oldest_seconds":
				age = mf.GetMetric()[0].GetGauge().GetValue()
			}
		}
		return n, age
	}
	if n, age := gauges(); n != 2 || age != 600 {
		t.Fatalf("before the sweep: %v overdue, oldest %v s; want 2 and 600", n, age)
	}
	if _, err := s.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if n, age := gauges(); n != 0 || age != 0 {
		t.Fatalf("after the sweep: %v overdue, oldest %v s; want 0 and 0", n, age)
	}
}
