package receive

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"path/filepath"
	"testing"

	"sealgate/outer/pkgstore"
	"sealgate/shared/keys"
	"sealgate/transfer"
)

// A package arriving from one inner is that inner's: another inner's
// offer of the same bytes waits (busy) rather than adding to it and being
// credited with it.
func TestAnArrivalBelongsToItsInner(t *testing.T) {
	keyDir := filepath.Join(t.TempDir(), "keys")
	if err := keys.InitOuter(keyDir); err != nil {
		t.Fatal(err)
	}
	outer, err := keys.LoadOuter(keyDir)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := pkgstore.OpenDir(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := New(Config{Store: dir, Identity: outer.Transfer})
	if err != nil {
		t.Fatal(err)
	}
	pubA, _, _ := ed25519.GenerateKey(rand.Reader)
	pubB, _, _ := ed25519.GenerateKey(rand.Reader)
	a, b := Peer{Name: "city-hall", Signer: pubA}, Peer{Name: "district-office", Signer: pubB}
	o := transfer.Offer{Size: 4 << 20, Lanes: 4, Lane: 0}
	rand.Read(o.SHA256[:])
	first, err := r.acquire(o, a)
	if err != nil {
		t.Fatal(err)
	}
	defer r.release(first)
	o.Lane = 1
	if _, err := r.acquire(o, b); !errors.Is(err, errBusy) {
		t.Fatalf("another inner's offer of an arriving package: %v, want busy", err)
	}
	same, err := r.acquire(o, a)
	if err != nil || same != first {
		t.Fatalf("the same inner's next lane: %v, %v; want the same arrival", same, err)
	}
	r.release(same)
}
