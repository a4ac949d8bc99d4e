package outbox_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"sealgate/inner/outbox"
	"sealgate/inner/store"
	"sealgate/shared/audit"
	"sealgate/shared/pgdb/pgtest"
	"sealgate/shared/seal"
	"sealgate/transfer/transfertest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func TestAddVerifiesTheCopyAndLeavesNothingOnRefusal(t *testing.T) {
	ctx := context.Background()
	key := make([]byte, 32)
	rand.Read(key)
	pool := pgtest.NewPool(t, store.Migrations())
	dir := filepath.Join(t.TempDir(), "outbox")
	ob, err := outbox.New(pool, dir, audit.New(pool, key))
	if err != nil {
		t.Fatal(err)
	}
	p, stranger := transfertest.NewPair(t, nil), transfertest.NewPair(t, nil)
	signer := p.Inner.Signing.Public().(ed25519.PublicKey)

	foreign, _ := stranger.Package(t, 50_000) // signed by another appliance
	if _, err := ob.Add(ctx, "test", foreign, signer, 0); !errors.Is(err, seal.ErrSignerMismatch) {
		t.Fatalf("foreign package: %v, want ErrSignerMismatch", err)
	}
	good, sum := p.Package(t, 50_000)
	// A file already under the package's name that is not the package (a
	// damaged copy left by a crash) is neither replaced nor queued.
	orphan := filepath.Join(dir, sum+".sgpkg")
	os.WriteFile(orphan, []byte("damaged"), 0o600)
	if _, err := ob.Add(ctx, "test", good, signer, 0); err == nil {
		t.Fatal("a package was queued over a different file of its name")
	}
	if b, _ := os.ReadFile(orphan); string(b) != "damaged" {
		t.Fatalf("the file under the package's name was replaced: %q", b)
	}
	os.Remove(orphan)
	b, _ := os.ReadFile(good)
	cut := filepath.Join(t.TempDir(), "cut.sgpkg")
	os.WriteFile(cut, b[:len(b)-10], 0o600)
	if _, err := ob.Add(ctx, "test", cut, signer, 0); !errors.Is(err, seal.ErrTruncated) {
		t.Fatalf("truncated package: %v, want ErrTruncated", err)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Fatalf("refused packages left files behind: %v", left)
	}
	e, err := ob.Add(ctx, "test", good, signer, 2)
	if err != nil || e.SHA256 != sum || e.Priority != 2 {
		t.Fatalf("Add: %+v, %v", e, err)
	}
	if _, err := os.Stat(filepath.Join(dir, sum+".sgpkg")); err != nil {
		t.Fatalf("queued copy missing: %v", err)
	}
	if _, err := ob.Add(ctx, "test", good, signer, 0); !errors.Is(err, outbox.ErrQueued) {
		t.Fatalf("second Add: %v, want ErrQueued", err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".*")); len(left) != 0 {
		t.Fatalf("temporary files left: %v", left)
	}
}

// TestClaimsLapseUnlessTouched: a package claimed by a sender that died is
// due again after 30 s; a live sender's touched claim is not taken.
func TestClaimsLapseUnlessTouched(t *testing.T) {
	ctx := context.Background()
	key := make([]byte, 32)
	rand.Read(key)
	pool := pgtest.NewPool(t, store.Migrations())
	ob, err := outbox.New(pool, filepath.Join(t.TempDir(), "outbox"), audit.New(pool, key))
	if err != nil {
		t.Fatal(err)
	}
	p := transfertest.NewPair(t, nil)
	path, _ := p.Package(t, 10_000)
	if _, err := ob.Add(ctx, "test", path, p.Inner.Signing.Public().(ed25519.PublicKey), 0); err != nil {
		t.Fatal(err)
	}
	first, err := ob.Next(ctx)
	if err != nil || first == nil {
		t.Fatalf("Next: %v, %v", first, err)
	}
	if again, _ := ob.Next(ctx); again != nil {
		t.Fatal("a fresh claim was taken twice")
	}
	age := func() {
		if _, err := pool.Exec(ctx, `UPDATE outbox SET claimed_at = now() - interval '31 seconds'`); err != nil {
			t.Fatal(err)
		}
	}
	age()
	if err := ob.Touch(ctx, []int64{first.ID}); err != nil {
		t.Fatal(err)
	}
	if again, _ := ob.Next(ctx); again != nil {
		t.Fatal("a touched claim was taken")
	}
	age() // the sender died: nobody touches it
	again, err := ob.Next(ctx)
	if err != nil || again == nil || again.ID != first.ID {
		t.Fatalf("lapsed claim not taken again: %v, %v", again, err)
	}
}
