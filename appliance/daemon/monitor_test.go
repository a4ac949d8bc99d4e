package daemon

import (
	"context"
	"crypto/rand"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"sealgate/shared/audit"
	"sealgate/shared/keys"
	"sealgate/shared/pgdb"
	"sealgate/shared/pgdb/pgtest"
)

// gauges gathers c and returns each sample's value by metric name and
// label values (joined with ",").
func gauges(t *testing.T, c prometheus.Collector) map[string]float64 {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(c)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			key := mf.GetName()
			for _, l := range m.GetLabel() {
				key += "," + l.GetValue()
			}
			out[key] = m.GetGauge().GetValue()
		}
	}
	return out
}

// The audit gauge says -1 before the first walk, 1 for an intact chain
// and 0 once an entry was altered behind the append-only trigger.
func TestChainVerifierGauge(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.NewPool(t, pgdb.MustMigrations(audit.Schema))
	key := make([]byte, 32)
	rand.Read(key)
	l := audit.New(pool, key)
	for range 3 {
		if err := l.Append(ctx, audit.Entry{Actor: "kim", Action: "auth.login", Outcome: audit.OK}); err != nil {
			t.Fatal(err)
		}
	}
	v := &chainVerifier{log: l, logger: slog.New(slog.DiscardHandler), intact: -1}
	if g := gauges(t, v); g["sealgate_audit_chain_intact"] != -1 || g["sealgate_audit_chain_verified_timestamp_seconds"] != 0 {
		t.Fatalf("before the first walk: %v", g)
	}
	v.verify(ctx)
	if g := gauges(t, v); g["sealgate_audit_chain_intact"] != 1 || g["sealgate_audit_chain_verified_entries"] != 3 || g["sealgate_audit_chain_verified_timestamp_seconds"] == 0 {
		t.Fatalf("intact chain: %v", g)
	}
	for _, sql := range []string{`ALTER TABLE audit_log DISABLE TRIGGER USER`, `UPDATE audit_log SET actor = 'someone-else' WHERE seq = 2`,
		`ALTER TABLE audit_log ENABLE TRIGGER USER`} {
		if _, err := pool.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	v.verify(ctx)
	if g := gauges(t, v); g["sealgate_audit_chain_intact"] != 0 || g["sealgate_audit_chain_verified_entries"] != 1 {
		t.Fatalf("altered entry 2: %v", g)
	}
}

// The key gauge follows a chmod made while the daemon runs.
func TestKeyModesGauge(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	if err := keys.InitInner(dir); err != nil {
		t.Fatal(err)
	}
	k := keyModes{dir: dir, log: slog.New(slog.DiscardHandler)}
	g := gauges(t, k)
	if len(g) != 6 { // the directory and the five private files of an inner
		t.Fatalf("checked %v, want the directory and 5 private files", g)
	}
	for name, v := range g {
		if v != 0 {
			t.Errorf("%s = %v on a fresh key directory", name, v)
		}
	}
	os.Chmod(filepath.Join(dir, keys.SigningKey), 0o644)
	os.Chmod(dir, 0o777)
	g = gauges(t, k)
	if g["sealgate_keys_file_unsafe,signing.key"] != 1 || g["sealgate_keys_file_unsafe,."] != 1 || g["sealgate_keys_file_unsafe,pii.key"] != 0 {
		t.Fatalf("after chmod: %v", g)
	}
}
