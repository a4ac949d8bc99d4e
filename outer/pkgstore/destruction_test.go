package pkgstore_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"sealgate/outer/expiry"
	"sealgate/outer/pkgstore"
	"sealgate/outer/store"
	"sealgate/shared/audit"
	"sealgate/shared/pgdb/pgtest"
	"sealgate/shared/seal"
	"sealgate/transfer"
	"sealgate/transfer/receive"
)

var _ receive.Records = (*pkgstore.Store)(nil)

// newStore is the outer's packages table on a fresh database, and its directory.
func newStore(t *testing.T) (*pgxpool.Pool, *pkgstore.Store, *pkgstore.Dir) {
	t.Helper()
	pool := pgtest.NewPool(t, store.Migrations())
	key := make([]byte, 32)
	rand.Read(key)
	records := pkgstore.New(pool, audit.New(pool, key))
	dir, err := pkgstore.OpenDir(t.TempDir(), records)
	if err != nil {
		t.Fatal(err)
	}
	return pool, records, dir
}

// Fate answers from the packages table: held, then destroyed with the
// reason code of how outer/expiry destroyed it and the SHA-256 of the
// reason text; a package never received is unknown.
func TestFateOfPackages(t *testing.T) {
	ctx := context.Background()
	_, records, dir := newStore(t)
	now := time.Now().UTC()
	keep := func(body string, until time.Time) [32]byte {
		sum, data := arrive(t, dir, body)
		m := &seal.Manifest{ExportCode: "SG-2026-000031", Recipient: seal.Recipient{Name: "officer.kim"}, ViewFrom: now.Add(-48 * time.Hour), ViewUntil: until}
		if err := dir.Keep(ctx, "city-hall", sum, int64(len(body)), data, m); err != nil {
			t.Fatal(err)
		}
		return sum
	}
	expired, revoked, open := keep("window ended", now.Add(-time.Hour)), keep("revoked early", now.Add(time.Hour)), keep("still open", now.Add(time.Hour))

	if peer, rep, err := records.Fate(ctx, expired); err != nil || peer != "city-hall" || rep.State != transfer.StateHeld || rep.SHA256 != expired {
		t.Fatalf("before the sweep: %q %+v %v", peer, rep, err)
	}
	if n, err := expiry.New(records, slog.New(slog.DiscardHandler)).Sweep(ctx); err != nil || n != 1 {
		t.Fatalf("sweep: %d, %v", n, err)
	}
	if _, err := expiry.Revoke(ctx, records, "admin.lee", hex.EncodeToString(revoked[:]), "수사 종결 (공문 2026-91)"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		sum    [32]byte
		state  transfer.PackageState
		reason transfer.DestroyReason
	}{
		{"viewing period ended", expired, transfer.StateDestroyed, transfer.DestroyExpired},
		{"revoked", revoked, transfer.StateDestroyed, transfer.DestroyRevoked},
		{"held", open, transfer.StateHeld, transfer.DestroyNone},
	} {
		t.Run(tc.name, func(t *testing.T) {
			peer, rep, err := records.Fate(ctx, tc.sum)
			if err != nil || peer != "city-hall" || rep.State != tc.state || rep.Reason != tc.reason || rep.SHA256 != tc.sum {
				t.Fatalf("Fate: %q %+v %v", peer, rep, err)
			}
			p, err := records.Get(ctx, hex.EncodeToString(tc.sum[:]))
			if err != nil {
				t.Fatal(err)
			}
			if tc.state != transfer.StateDestroyed {
				if !rep.DestroyedAt.IsZero() || rep.ReasonSHA256 != [32]byte{} {
					t.Fatalf("a held package's reply names a destruction: %+v", rep)
				}
				return
			}
			if !rep.DestroyedAt.Equal(p.Destroyed.UTC().Truncate(time.Second)) || rep.ReasonSHA256 != sha256.Sum256([]byte(p.DestroyedReason)) {
				t.Fatalf("reply %+v for the record destroyed at %s because %q", rep, p.Destroyed, p.DestroyedReason)
			}
			// What the outer signs is what the inner's parser accepts.
			pub, priv, _ := ed25519.GenerateKey(rand.Reader)
			if _, err := transfer.VerifyDestruction(rep.Sign(priv), pub, tc.sum); err != nil {
				t.Fatal(err)
			}
		})
	}
	if peer, rep, err := records.Fate(ctx, sha256.Sum256([]byte("never received"))); err != nil || peer != "" || rep.State != transfer.StateUnknown {
		t.Fatalf("a package never received: %q %+v %v", peer, rep, err)
	}
	if got := pkgstore.DestroyReason("cli", "retention policy"); got != transfer.DestroyOther {
		t.Fatalf("another destruction: %s", got)
	}
}

// Fate carries a package's use: the downloads counted, the plays the
// license service released, and the first of either; a package nobody
// opened has none, and every reply is one the inner's parser accepts.
func TestFateCountsUse(t *testing.T) {
	ctx := context.Background()
	pool, records, dir := newStore(t)
	now := time.Now().UTC().Truncate(time.Second)
	keep := func(body string) [32]byte {
		sum, data := arrive(t, dir, body)
		m := &seal.Manifest{ExportCode: "SG-2026-000032", Recipient: seal.Recipient{Name: "officer.kim"}, ViewFrom: now.Add(-time.Hour), ViewUntil: now.Add(time.Hour)}
		if err := dir.Keep(ctx, "city-hall", sum, int64(len(body)), data, m); err != nil {
			t.Fatal(err)
		}
		return sum
	}
	used, unopened := keep("opened twice, played twice"), keep("never opened")
	id := hex.EncodeToString(used[:])
	for _, at := range []time.Time{now.Add(-20 * time.Minute), now.Add(-5 * time.Minute)} {
		if err := records.Downloaded(ctx, id, at); err != nil {
			t.Fatal(err)
		}
	}
	for _, at := range []time.Time{now.Add(-30 * time.Minute), now.Add(-time.Minute)} {
		if _, err := pool.Exec(ctx, `INSERT INTO plays (package, account, session, released_at) VALUES ($1, 'officer.kim', '\x01', $2)`, used[:], at); err != nil {
			t.Fatal(err)
		}
	}
	if err := records.Downloaded(ctx, "not a package", now); !errors.Is(err, pkgstore.ErrNotFound) {
		t.Fatalf("a download of no package: %v", err)
	}
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	for _, tc := range []struct {
		name string
		sum  [32]byte
		want transfer.Use
	}{
		{"used", used, transfer.Use{FirstViewed: now.Add(-30 * time.Minute), Downloads: 2, Plays: 2}},
		{"unopened", unopened, transfer.Use{}},
	} {
		_, rep, err := records.Fate(ctx, tc.sum)
		if err != nil || rep.Use != tc.want {
			t.Fatalf("%s: %+v, %v; want %+v", tc.name, rep.Use, err, tc.want)
		}
		if got, err := transfer.ParseStatusReply(rep.Sign(priv), pub, tc.sum); err != nil || got.Use != tc.want {
			t.Fatalf("%s: the signed reply parses as %+v, %v", tc.name, got.Use, err)
		}
	}
	// Revoked, its receipt keeps the final counts.
	if _, err := expiry.Revoke(ctx, records, "admin.lee", id, "수사 종결"); err != nil {
		t.Fatal(err)
	}
	_, rep, err := records.Fate(ctx, used)
	if err != nil || rep.State != transfer.StateDestroyed || rep.Downloads != 2 || rep.Plays != 2 {
		t.Fatalf("revoked: %+v, %v", rep, err)
	}
	if _, err := transfer.VerifyDestruction(rep.Sign(priv), pub, used); err != nil {
		t.Fatal(err)
	}
}
