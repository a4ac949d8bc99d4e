package outbox_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"sealgate/inner/outbox"
	"sealgate/inner/store"
	"sealgate/shared/audit"
	"sealgate/shared/pgdb/pgtest"
	"sealgate/shared/seal"
	"sealgate/transfer"
	"sealgate/transfer/send"
	"sealgate/transfer/transfertest"
)

func newOutbox(t *testing.T) (*outbox.Outbox, *pgxpool.Pool) {
	t.Helper()
	key := make([]byte, 32)
	rand.Read(key)
	pool := pgtest.NewPool(t, store.Migrations())
	ob, err := outbox.New(pool, filepath.Join(t.TempDir(), "outbox"), audit.New(pool, key))
	if err != nil {
		t.Fatal(err)
	}
	return ob, pool
}

func entry(t *testing.T, ob *outbox.Outbox, sum string) outbox.Entry {
	t.Helper()
	es, err := ob.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		if e.SHA256 == sum {
			return e
		}
	}
	t.Fatalf("%s is not in the outbox", sum)
	return outbox.Entry{}
}

func waitFor(t *testing.T, what string, within time.Duration, ok func() bool) {
	t.Helper()
	for end := time.Now().Add(within); !ok(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("%s: not within %s", what, within)
		}
	}
}

// TestDestructionReceiptsOverTheLink runs a real sender on the outbox
// against a real receiver with the outer's packages table, over loopback
// QUIC through a link that can be cut. Two packages are delivered and
// asked about at once (held, unopened), then every QueryEarly; the officer
// downloads them and the outer revokes one. With the link cut the round's
// queries fail and record nothing but a retry; once it is back the next
// round records the revoked package's verified receipt, in one
// transaction with its audit entry, and the other package as held, to be
// asked again later; both with the downloads the outer counted.
func TestDestructionReceiptsOverTheLink(t *testing.T) {
	ctx := context.Background()
	ob, pool := newOutbox(t)
	p := transfertest.NewRecordedPair(t, nil)
	proxy := transfertest.NewProxy(t, p.Addr)
	signer := p.Inner.Signing.Public().(ed25519.PublicKey)
	until := time.Now().Add(7 * 24 * time.Hour)
	queue := func(payload string) string {
		path, sum := p.PackageWith(t, 30_000, seal.Manifest{ExportCode: "SG-2026-000042", Recipient: seal.Recipient{Name: "officer.kim"},
			ViewFrom: time.Now().Add(-time.Hour), ViewUntil: until, Watermark: payload})
		if _, err := ob.Add(ctx, "test", path, signer, 0); err != nil {
			t.Fatal(err)
		}
		return sum
	}
	revoked, held := queue("000c000000000007"), queue("000c000000000008")

	var ahead atomic.Int64 // the sender's clock runs this far ahead
	clock := func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }
	reg := prometheus.NewRegistry()
	s := send.New(send.Config{Addr: proxy.Addr, OuterFingerprint: p.OuterFP, Identity: p.Inner.Transfer, QUIC: transfertest.TestQUIC(false),
		Connections: 2, Poll: 50 * time.Millisecond, QueryPoll: 50 * time.Millisecond, QueryRetry: 100 * time.Millisecond, Clock: clock},
		ob.Sending(signer), reg)
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- s.Run(runCtx) }()
	t.Cleanup(func() { stop(); <-done })

	waitFor(t, "both packages delivered", 20*time.Second, func() bool {
		return entry(t, ob, revoked).State == "delivered" && entry(t, ob, held).State == "delivered"
	})
	// Asked about at once: held, unopened, asked again in QueryEarly.
	waitFor(t, "both packages answered held", 20*time.Second, func() bool {
		return entry(t, ob, revoked).OuterState == "held" && entry(t, ob, held).OuterState == "held"
	})
	e := entry(t, ob, revoked)
	if e.NextQueryAt == nil || e.NextQueryAt.Sub(*e.QueriedAt) < send.QueryEarly-time.Minute || e.NextQueryAt.Sub(*e.QueriedAt) > send.QueryEarly+time.Minute {
		t.Fatalf("next status query at %v for a package asked about at %v", e.NextQueryAt, e.QueriedAt)
	}
	if e.DestroyedAt != nil || e.Verified || e.FirstViewedAt != nil || e.Downloads != 0 || e.Plays != 0 {
		t.Fatalf("a package just delivered: %+v", e.Destruction)
	}
	// The officer downloads the one twice before it is revoked, the other once.
	viewed := time.Now().Add(-time.Minute).UTC().Truncate(time.Second)
	for _, sum := range []string{revoked, revoked, held} {
		if err := p.Records.Downloaded(ctx, sum, viewed); err != nil {
			t.Fatal(err)
		}
	}
	p.Revoke(t, revoked, "수사 종결 (공문 2026-91)")

	proxy.Cut()
	ahead.Store(int64(send.QueryEarly + time.Minute)) // past the next query, inside the window
	waitFor(t, "a query that fails on the cut link", 30*time.Second, func() bool { return entry(t, ob, revoked).QueryError != "" })
	if e := entry(t, ob, revoked); e.Verified || e.DestroyedAt != nil || e.SignedReceipt != "" {
		t.Fatalf("a query that was not answered recorded %+v", e.Destruction)
	}
	proxy.Restore()
	waitFor(t, "the destruction receipt", 30*time.Second, func() bool { return entry(t, ob, revoked).Verified })

	e = entry(t, ob, revoked)
	rec, err := p.Records.Get(ctx, revoked)
	if err != nil {
		t.Fatal(err)
	}
	if e.DestroyedAt == nil || !e.DestroyedAt.Equal(rec.Destroyed.Truncate(time.Second)) || e.Reason != "revoked" || e.OuterState != "destroyed" ||
		e.NextQueryAt != nil || e.QueryError != "" {
		t.Fatalf("recorded %+v for the outer's %v", e.Destruction, rec.Destroyed)
	}
	if e.Downloads != 2 || e.Plays != 0 || e.FirstViewedAt == nil || !e.FirstViewedAt.Equal(viewed) {
		t.Fatalf("the revoked package's use: first viewed %v, %d downloads, %d plays", e.FirstViewedAt, e.Downloads, e.Plays)
	}
	outerKey := p.Outer.Transfer.PrivateKey.(ed25519.PrivateKey).Public().(ed25519.PublicKey)
	if rep, err := ob.VerifyDestruction(ctx, revoked, outerKey); err != nil || rep.Reason != transfer.DestroyRevoked ||
		rep.ReasonSHA256 != sha256.Sum256([]byte(rec.DestroyedReason)) {
		t.Fatalf("the kept receipt: %+v, %v", rep, err)
	}
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	if _, err := ob.VerifyDestruction(ctx, revoked, other.Public().(ed25519.PublicKey)); !errors.Is(err, transfer.ErrProtocol) {
		t.Fatalf("the kept receipt against another key: %v", err)
	}
	waitFor(t, "the held package answered", 30*time.Second, func() bool { return entry(t, ob, held).OuterState == "held" })
	if h := entry(t, ob, held); h.Verified || h.DestroyedAt != nil || h.NextQueryAt == nil || !h.NextQueryAt.After(clock()) ||
		h.Downloads != 1 || h.FirstViewedAt == nil || !h.FirstViewedAt.Equal(viewed) {
		t.Fatalf("the held package: %+v", h.Destruction)
	}
	var audited int
	pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'transfer.destroyed' AND target = $1`, revoked).Scan(&audited)
	if audited != 1 {
		t.Errorf("%d audit entries for the destruction, want 1", audited)
	}
	copies, err := outbox.Copies(ctx, pool, []string{"000c000000000007", "000c000000000008", "000c000000000009"})
	if err != nil {
		t.Fatal(err)
	}
	if c := copies["000c000000000007"]; !c.Verified || c.DestroyedAt == nil || !c.DestroyedAt.Equal(*e.DestroyedAt) {
		t.Errorf("the revoked copy: %+v", c)
	}
	if c, ok := copies["000c000000000008"]; !ok || c.Verified || c.DestroyedAt != nil {
		t.Errorf("the held copy: %+v, %v", c, ok)
	}
	if _, ok := copies["000c000000000009"]; ok {
		t.Error("a copy never delivered has a destruction")
	}
	if got := counter(t, reg, "destroyed"); got != 1 {
		t.Errorf("destroyed answers counted: %v", got)
	}
	if got := counter(t, reg, "failed"); got < 1 {
		t.Errorf("failed queries counted: %v", got)
	}
}

// counter reads sealgate_send_status_queries_total{answer}.
func counter(t *testing.T, reg *prometheus.Registry, answer string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "sealgate_send_status_queries_total" {
			for _, m := range mf.GetMetric() {
				if m.GetLabel()[0].GetValue() == answer {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// A status reply is recorded only when it verifies against the key given
// and names the package's own SHA-256: one signed by another key, or
// about another package, changes nothing.
func TestAnsweredRecordsOnlyWhatVerifies(t *testing.T) {
	ctx := context.Background()
	ob, pool := newOutbox(t)
	p := transfertest.NewPair(t, nil)
	signer := p.Inner.Signing.Public().(ed25519.PublicKey)
	path, name := p.Package(t, 10_000)
	e, err := ob.Add(ctx, "test", path, signer, 0)
	if err != nil {
		t.Fatal(err)
	}
	q := ob.Sending(signer)
	it, err := q.Next(ctx)
	if err != nil || it == nil {
		t.Fatalf("Next: %v, %v", it, err)
	}
	if err := ob.Delivered(ctx, it.ID, send.Result{Status: transfer.Stored}); err != nil {
		t.Fatal(err)
	}
	outerPub, outerKey, _ := ed25519.GenerateKey(rand.Reader)
	_, impostor, _ := ed25519.GenerateKey(rand.Reader)
	var sum [32]byte
	raw, _ := hex.DecodeString(name)
	copy(sum[:], raw)
	destroyed := transfer.StatusReply{State: transfer.StateDestroyed, Reason: transfer.DestroyExpired, SHA256: sum,
		DestroyedAt: time.Now().UTC().Truncate(time.Second), ReasonSHA256: sha256.Sum256([]byte("viewing period ended"))}
	other := destroyed
	other.SHA256 = sha256.Sum256([]byte("another package"))
	next := time.Now().Add(time.Hour)
	for what, signed := range map[string][]byte{"another key": destroyed.Sign(impostor), "another package": other.Sign(outerKey),
		"not a reply": []byte("destroyed")} {
		if err := ob.Answered(ctx, e.ID, signed, outerPub, next); !errors.Is(err, transfer.ErrProtocol) {
			t.Fatalf("%s: %v, want ErrProtocol", what, err)
		}
	}
	if got := entry(t, ob, name); got.Verified || got.DestroyedAt != nil || got.OuterState != "" || got.SignedReceipt != "" {
		t.Fatalf("refused replies recorded %+v", got.Destruction)
	}
	if due, err := ob.DueForQuery(ctx, time.Now().Add(7*time.Hour), 10); err != nil || len(due) != 1 || due[0].SHA256 != sum {
		t.Fatalf("due: %+v, %v", due, err)
	}
	if due, _ := ob.DueForQuery(ctx, time.Now().Add(7*time.Hour), 10); len(due) != 0 {
		t.Fatalf("a package claimed for a query was handed out again: %+v", due)
	}
	if err := ob.Answered(ctx, e.ID, destroyed.Sign(outerKey), outerPub, next); err != nil {
		t.Fatal(err)
	}
	if err := ob.Answered(ctx, e.ID, destroyed.Sign(outerKey), outerPub, next); err != nil { // another node's answer too
		t.Fatal(err)
	}
	got := entry(t, ob, name)
	if !got.Verified || got.Reason != "viewing_period_ended" || !got.DestroyedAt.Equal(destroyed.DestroyedAt) {
		t.Fatalf("the destruction: %+v", got.Destruction)
	}
	var audited int
	pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'transfer.destroyed'`).Scan(&audited)
	if audited != 1 {
		t.Errorf("%d audit entries, want 1", audited)
	}
	if due, _ := ob.DueForQuery(ctx, time.Now().Add(30*24*time.Hour), 10); len(due) != 0 {
		t.Fatalf("a verified destruction is asked about again: %+v", due)
	}
}
