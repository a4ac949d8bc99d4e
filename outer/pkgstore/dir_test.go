package pkgstore_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"os"
	"path/filepath"
	"testing"

	"sealgate/outer/pkgstore"
	"sealgate/outer/store"
	"sealgate/shared/audit"
	"sealgate/shared/pgdb/pgtest"
	"sealgate/transfer/receive"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

var _ receive.Store = (*pkgstore.Dir)(nil)

// arrive writes a package's bytes where the store says an arrival goes.
func arrive(t *testing.T, d *pkgstore.Dir, body string) ([32]byte, string) {
	t.Helper()
	sum := sha256.Sum256([]byte(body))
	data, lanes := d.Incoming(sum)
	if filepath.Dir(data) != filepath.Dir(lanes) || data == lanes {
		t.Fatalf("Incoming: %s, %s", data, lanes)
	}
	if err := os.WriteFile(data, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return sum, data
}

// Dir keeps an arrival under its hash and counts arrivals and packages
// against the quota; with records it records each package once, and
// Reconcile records a package file left without its row.
func TestDir(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.NewPool(t, store.Migrations())
	key := make([]byte, 32)
	rand.Read(key)
	log := audit.New(pool, key)
	records := pkgstore.New(pool, log)
	path := t.TempDir()
	d, err := pkgstore.OpenDir(path, records)
	if err != nil {
		t.Fatal(err)
	}

	sum, data := arrive(t, d, "first package")
	if d.Has(sum) {
		t.Fatal("an arrival counts as kept")
	}
	if n := d.Used(); n != int64(len("first package")) {
		t.Fatalf("Used with one arrival: %d", n)
	}
	if err := d.Keep(ctx, "city-hall", sum, 13, data, nil); err != nil {
		t.Fatal(err)
	}
	if !d.Has(sum) || d.Path(sum) != filepath.Join(path, filepath.Base(d.Path(sum))) {
		t.Fatalf("kept package: Has %v at %s", d.Has(sum), d.Path(sum))
	}
	if _, err := os.Stat(data); !os.IsNotExist(err) {
		t.Fatalf("the arrival is still there: %v", err)
	}
	if n := d.Used(); n != 13 {
		t.Fatalf("Used with one package: %d", n)
	}
	pkgs, err := records.List(ctx)
	if err != nil || len(pkgs) != 1 || pkgs[0].Peer != "city-hall" || pkgs[0].Size != 13 {
		t.Fatalf("records: %+v, %v", pkgs, err)
	}

	// A file kept but not recorded (a crash between the two): Reconcile
	// records it, once.
	bare, err := pkgstore.OpenDir(path, nil) // files only
	if err != nil {
		t.Fatal(err)
	}
	sum2, data2 := arrive(t, bare, "second package")
	if err := bare.Keep(ctx, "city-hall", sum2, 14, data2, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := bare.Reconcile(ctx); err == nil {
		t.Fatal("Reconcile without records succeeded")
	}
	for _, want := range []int{1, 0} {
		if n, err := d.Reconcile(ctx); err != nil || n != want {
			t.Fatalf("Reconcile: %d, %v, want %d", n, err, want)
		}
	}
	if pkgs, err := records.List(ctx); err != nil || len(pkgs) != 2 {
		t.Fatalf("records after Reconcile: %+v, %v", pkgs, err)
	}
	if n, err := log.Verify(ctx); err != nil || n != 2 {
		t.Fatalf("audit: %d entries, %v, want 2", n, err)
	}
}
