package receive_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"sealgate/outer/pkgstore"
	"sealgate/shared/keys"
	"sealgate/shared/pgdb/pgtest"
	"sealgate/transfer"
	"sealgate/transfer/receive"
	"sealgate/transfer/send"
	"sealgate/transfer/transfertest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func dial(t *testing.T, addr string, id *keys.Inner, outerFP string) *send.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := send.Dial(ctx, addr, id.Transfer, outerFP, transfertest.TestQUIC(false))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func query(t *testing.T, c *send.Conn, sum [32]byte) transfer.StatusReply {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rep, signed, err := c.Query(ctx, sum)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := transfer.ParseStatusReply(signed, c.OuterKey(), sum); err != nil {
		t.Fatalf("the reply's bytes as returned: %v", err)
	}
	return rep
}

// TestStatusQueries: over real QUIC, the outer answers a status query
// from its packages table: held, then destroyed with a receipt that
// verifies against its transfer key; another paired inner asking about
// the package hears unknown, as for one never received.
func TestStatusQueries(t *testing.T) {
	otherDir := filepath.Join(t.TempDir(), "district")
	if err := keys.InitInner(otherDir); err != nil {
		t.Fatal(err)
	}
	other, err := keys.LoadInner(otherDir)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	p := transfertest.NewRecordedPair(t, func(c *receive.Config) {
		c.Peers[transfertest.CertFP(other.Transfer.Certificate[0])] = receive.Peer{Name: "district-office", Signer: other.Signing.Public().(ed25519.PublicKey)}
		c.Metrics = reg
	})
	mine, theirs := dial(t, p.Addr, p.Inner, p.OuterFP), dial(t, p.Addr, other, p.OuterFP)
	path, name := p.Package(t, 200_000)
	pkg, err := send.Describe(path)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := mine.Send(context.Background(), pkg, nil); err != nil || res.Status != transfer.Stored {
		t.Fatalf("Send: %+v, %v", res, err)
	}
	if rep := query(t, mine, pkg.SHA256); rep.State != transfer.StateHeld {
		t.Fatalf("a package held: %+v", rep)
	}
	if rep := query(t, theirs, pkg.SHA256); rep.State != transfer.StateUnknown {
		t.Fatalf("another inner's package: %+v", rep)
	}
	p.Revoke(t, name, "수사 종결 (공문 2026-91)")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rep, signed, err := mine.Query(ctx, pkg.SHA256)
	if err != nil || rep.State != transfer.StateDestroyed || rep.Reason != transfer.DestroyRevoked {
		t.Fatalf("a revoked package: %+v, %v", rep, err)
	}
	rec, err := p.Records.Get(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	outerKey := p.Outer.Transfer.PrivateKey.(ed25519.PrivateKey).Public().(ed25519.PublicKey)
	kept, err := transfer.VerifyDestruction(signed, outerKey, pkg.SHA256)
	if err != nil || !kept.DestroyedAt.Equal(rec.Destroyed.UTC().Truncate(time.Second)) || kept.ReasonSHA256 != sha256.Sum256([]byte(rec.DestroyedReason)) {
		t.Fatalf("the receipt %+v, %v for the record %+v", kept, err, rec)
	}
	if rep := query(t, theirs, pkg.SHA256); rep.State != transfer.StateUnknown {
		t.Fatalf("another inner's destroyed package: %+v", rep)
	}
	if rep := query(t, mine, sha256.Sum256([]byte("never sent"))); rep.State != transfer.StateUnknown {
		t.Fatalf("a package never received: %+v", rep)
	}
	for _, c := range []struct {
		peer, state string
		want        float64
	}{{"city-hall", "held", 1}, {"city-hall", "destroyed", 1}, {"city-hall", "unknown", 1}, {"district-office", "unknown", 2}} {
		if got := queries(t, reg, c.peer, c.state); got != c.want {
			t.Errorf("status queries answered %s to %s: %v, want %v", c.state, c.peer, got, c.want)
		}
	}
}

// An answer signed by any key but the one the inner pinned is refused.
func TestStatusReplySignedByAnotherKeyIsRefused(t *testing.T) {
	dir := t.TempDir()
	if err := keys.InitInner(filepath.Join(dir, "inner")); err != nil {
		t.Fatal(err)
	}
	if err := keys.InitOuter(filepath.Join(dir, "outer")); err != nil {
		t.Fatal(err)
	}
	in, _ := keys.LoadInner(filepath.Join(dir, "inner"))
	out, _ := keys.LoadOuter(filepath.Join(dir, "outer"))
	store, err := pkgstore.OpenDir(filepath.Join(dir, "store"), nil)
	if err != nil {
		t.Fatal(err)
	}
	p := transfertest.NewRecordedPair(t, nil) // only for its packages table
	r, err := receive.New(receive.Config{Store: store, Identity: out.Transfer, Records: p.Records, QUIC: transfertest.TestQUIC(true),
		Peers: map[string]receive.Peer{transfertest.CertFP(in.Transfer.Certificate[0]): {Name: "city-hall", Signer: in.Signing.Public().(ed25519.PublicKey)}}})
	if err != nil {
		t.Fatal(err)
	}
	_, impostor, _ := ed25519.GenerateKey(rand.Reader)
	receive.SignRepliesWith(r, impostor)
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Serve(ctx, pc) }()
	t.Cleanup(func() { cancel(); <-done; pc.Close() })

	c := dial(t, pc.LocalAddr().String(), in, transfertest.CertFP(out.Transfer.Certificate[0]))
	qctx, qcancel := context.WithTimeout(ctx, 5*time.Second)
	defer qcancel()
	var sum [32]byte
	rand.Read(sum[:])
	if rep, signed, err := c.Query(qctx, sum); !errors.Is(err, transfer.ErrProtocol) || signed != nil {
		t.Fatalf("a reply signed by another key: %+v %x, %v; want ErrProtocol", rep, signed, err)
	}
}

// queries reads sealgate_receive_status_queries_total{peer, state}.
func queries(t *testing.T, reg *prometheus.Registry, peer, state string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "sealgate_receive_status_queries_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["peer"] == peer && labels["state"] == state {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}
