package receive_test

import (
	"crypto/rand"
	"os"
	"testing"
	"time"

	"sealgate/outer/pkgstore"
	"sealgate/transfer/receive"
	"sealgate/transfer/transfertest"
)

// A partial package no sender has added to for a week is removed (it
// holds quota); one still being added to is kept, and so are stored
// packages.
func TestAbandonedPartialsExpire(t *testing.T) {
	p := transfertest.NewPair(t, nil)
	dir, err := pkgstore.OpenDir(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := receive.New(receive.Config{Store: dir, Identity: p.Outer.Transfer})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	partial := func(age time.Duration) [32]byte {
		var sum [32]byte
		rand.Read(sum[:])
		data, lanes := dir.Incoming(sum)
		for _, f := range []string{data, lanes} {
			if err := os.WriteFile(f, make([]byte, 4096), 0o600); err != nil {
				t.Fatal(err)
			}
			os.Chtimes(f, now.Add(-age), now.Add(-age))
		}
		return sum
	}
	old, recent := partial(8*24*time.Hour), partial(6*24*time.Hour)
	var kept [32]byte
	rand.Read(kept[:])
	os.WriteFile(dir.Path(kept), []byte("stored"), 0o600)
	os.Chtimes(dir.Path(kept), now.Add(-30*24*time.Hour), now.Add(-30*24*time.Hour))

	n, err := r.ExpirePartials(now)
	if err != nil || n != 1 {
		t.Fatalf("ExpirePartials: %d, %v; want 1", n, err)
	}
	exists := func(path string) bool { _, err := os.Stat(path); return err == nil }
	d, l := dir.Incoming(old)
	if exists(d) || exists(l) {
		t.Error("the week-old partial is still there")
	}
	d, l = dir.Incoming(recent)
	if !exists(d) || !exists(l) {
		t.Error("a partial idle for less than a week was removed")
	}
	if !exists(dir.Path(kept)) {
		t.Error("a stored package was removed")
	}
}
