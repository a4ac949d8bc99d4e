package outbox_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
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
	signer := p.Inner.Signing.Public().(ed25519.PublicKey)
	if _, err := ob.Add(ctx, "test", path, signer, 0); err != nil {
		t.Fatal(err)
	}
	q := ob.Sending(signer)
	first, err := q.Next(ctx)
	if err != nil || first == nil {
		t.Fatalf("Next: %v, %v", first, err)
	}
	if again, _ := q.Next(ctx); again != nil {
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
	if again, _ := q.Next(ctx); again != nil {
		t.Fatal("a touched claim was taken")
	}
	age() // the sender died: nobody touches it
	again, err := q.Next(ctx)
	if err != nil || again == nil || again.ID != first.ID {
		t.Fatalf("lapsed claim not taken again: %v, %v", again, err)
	}
}

// A queued package whose file is swapped, or whose record is changed to
// name another file, is checked again as it is claimed: it is not handed
// to the sender, it is marked refused and audited, and the error says so
// (the sender logs it as an error).
func TestSwappedPackageIsNotSent(t *testing.T) {
	ctx := context.Background()
	key := make([]byte, 32)
	rand.Read(key)
	pool := pgtest.NewPool(t, store.Migrations())
	log := audit.New(pool, key)
	dir := filepath.Join(t.TempDir(), "outbox")
	ob, err := outbox.New(pool, dir, log)
	if err != nil {
		t.Fatal(err)
	}
	p, stranger := transfertest.NewPair(t, nil), transfertest.NewPair(t, nil)
	signer := p.Inner.Signing.Public().(ed25519.PublicKey)
	q := ob.Sending(signer)
	queue := func(priority int) (string, string) {
		path, sum := p.Package(t, 20_000)
		if _, err := ob.Add(ctx, "test", path, signer, priority); err != nil {
			t.Fatal(err)
		}
		return filepath.Join(dir, sum+".sgpkg"), sum
	}
	swapped, swappedSum := queue(3)
	other, _ := p.Package(t, 20_000) // ours, validly signed, but not the one recorded
	b, _ := os.ReadFile(other)
	if err := os.WriteFile(swapped, b, 0o600); err != nil {
		t.Fatal(err)
	}
	_, renamedSum := queue(2)
	foreign, _ := stranger.Package(t, 20_000)
	// The record changed to a foreign file with that file's own hash.
	fb, _ := os.ReadFile(foreign)
	fsum := sha256.Sum256(fb)
	if _, err := pool.Exec(ctx, `UPDATE outbox SET path = $2, sha256 = $3, size = $4 WHERE encode(sha256, 'hex') = $1`,
		renamedSum, foreign, fsum[:], len(fb)); err != nil {
		t.Fatal(err)
	}
	_, goodSum := queue(1)

	for i, want := range []string{swappedSum, hex.EncodeToString(fsum[:])} {
		it, err := q.Next(ctx)
		if it != nil || !errors.Is(err, outbox.ErrTampered) {
			t.Fatalf("claim %d: %v, %v; want ErrTampered", i, it, err)
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("claim %d: %v, want it to name %s", i, err, want)
		}
	}
	it, err := q.Next(ctx)
	if err != nil || it == nil || hex.EncodeToString(it.Package.SHA256[:]) != goodSum {
		t.Fatalf("the untouched package: %v, %v", it, err)
	}
	var refused, audited int
	pool.QueryRow(ctx, `SELECT count(*) FROM outbox WHERE state = 'refused' AND last_error LIKE '%does not match%'`).Scan(&refused)
	pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'transfer.tampered' AND outcome = 'failed'`).Scan(&audited)
	if refused != 2 || audited != 2 {
		t.Errorf("held back: %d refused, %d audited; want 2 and 2", refused, audited)
	}
	if again, err := q.Next(ctx); again != nil || err != nil {
		t.Errorf("a held-back package was claimed again: %v, %v", again, err)
	}
}
