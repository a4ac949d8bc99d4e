package ledger_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"testing"
	"time"

	"sealgate/inner/ledger"
	"sealgate/inner/outbox"
	"sealgate/inner/store"
	"sealgate/shared/audit"
	"sealgate/shared/pgdb/pgtest"
	"sealgate/shared/seal"
	"sealgate/transfer"
	"sealgate/transfer/send"
	"sealgate/transfer/transfertest"
)

// A copy's row says destroyed, verified, once the outer's signed receipt
// for the delivered package that carries its watermark is recorded; a
// copy sent twice is destroyed only when both packages are; a copy never
// delivered says nothing.
func TestLedgerShowsVerifiedDestruction(t *testing.T) {
	ctx := context.Background()
	key := make([]byte, 32)
	rand.Read(key)
	pool := pgtest.NewPool(t, store.Migrations())
	log := audit.New(pool, key)
	l, err := ledger.New(pool, log, 12)
	if err != nil {
		t.Fatal(err)
	}
	ob, err := outbox.New(pool, filepath.Join(t.TempDir(), "outbox"), log)
	if err != nil {
		t.Fatal(err)
	}
	p := transfertest.NewPair(t, nil)
	signer := p.Inner.Signing.Public().(ed25519.PublicKey)
	outerPub, outerKey, _ := ed25519.GenerateKey(rand.Reader)
	issue := func() *ledger.Entry {
		e, err := l.Open(ctx, ledger.Request{Requester: "경위 김민수", Reason: "절도 2026-1123", IssuedBy: "cli", SourceName: "cam.mp4"})
		if err != nil {
			t.Fatal(err)
		}
		if e, err = l.Issue(ctx, e.Serial, sha256.Sum256([]byte(e.Payload)), 10, 45); err != nil {
			t.Fatal(err)
		}
		return e
	}
	// deliver queues and delivers a package carrying e's mark.
	deliver := func(e *ledger.Entry) (int64, [32]byte) {
		path, name := p.PackageWith(t, 5_000, seal.Manifest{Watermark: e.Payload, ViewUntil: time.Now().Add(time.Hour)})
		if _, err := ob.Add(ctx, "cli", path, signer, 0); err != nil {
			t.Fatal(err)
		}
		it, err := ob.Sending(signer).Next(ctx)
		if err != nil || it == nil {
			t.Fatalf("Next: %v, %v", it, err)
		}
		if err := ob.Delivered(ctx, it.ID, send.Result{Status: transfer.Stored}); err != nil {
			t.Fatal(err)
		}
		var sum [32]byte
		raw, _ := hex.DecodeString(name)
		copy(sum[:], raw)
		return it.ID, sum
	}
	at := time.Date(2026, 12, 14, 9, 0, 0, 0, time.UTC)
	destroy := func(id int64, sum [32]byte, when time.Time) {
		rep := transfer.StatusReply{State: transfer.StateDestroyed, Reason: transfer.DestroyExpired, SHA256: sum, DestroyedAt: when}
		if err := ob.Answered(ctx, id, rep.Sign(outerKey), outerPub, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	once, twice, never := issue(), issue(), issue()
	id, sum := deliver(once)
	id1, sum1 := deliver(twice)
	id2, sum2 := deliver(twice)
	row := func(e *ledger.Entry) *ledger.Entry {
		t.Helper()
		all, err := l.List(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range all {
			if r.Serial == e.Serial {
				return r
			}
		}
		t.Fatalf("serial %d not listed", e.Serial)
		return nil
	}
	for _, e := range []*ledger.Entry{once, twice, never} {
		if r := row(e); r.DestroyedAt != nil || r.DestructionVerified {
			t.Fatalf("before any receipt: %+v", r)
		}
	}
	destroy(id, sum, at)
	destroy(id1, sum1, at)
	if r := row(once); r.DestroyedAt == nil || !r.DestroyedAt.Equal(at) || !r.DestructionVerified {
		t.Fatalf("a copy whose package is destroyed: %+v", r)
	}
	if r := row(twice); r.DestroyedAt != nil || r.DestructionVerified {
		t.Fatalf("a copy one of whose two packages is still held: %+v", r)
	}
	destroy(id2, sum2, at.Add(time.Hour))
	if r := row(twice); r.DestroyedAt == nil || !r.DestroyedAt.Equal(at.Add(time.Hour)) || !r.DestructionVerified {
		t.Fatalf("a copy whose two packages are destroyed: %+v", r)
	}
	if r, err := l.Lookup(ctx, once.WatermarkPayload()); err != nil || !r.DestructionVerified {
		t.Fatalf("Lookup: %+v, %v", r, err)
	}
	if r := row(never); r.DestroyedAt != nil || r.DestructionVerified {
		t.Fatalf("a copy never delivered: %+v", r)
	}
}
