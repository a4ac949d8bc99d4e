// Package transfertest sets up real transfers for tests: a paired inner and
// outer (keys generated as `keys init` does), a receiver on loopback UDP,
// sealed packages, and a UDP proxy that can cut the link or lose packets.
package transfertest

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/hpke"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/quic-go/quic-go"

	"sealgate/outer/expiry"
	"sealgate/outer/pkgstore"
	outerstore "sealgate/outer/store"
	"sealgate/shared/audit"
	"sealgate/shared/keys"
	"sealgate/shared/pgdb/pgtest"
	"sealgate/shared/seal"
	"sealgate/transfer"
	"sealgate/transfer/receive"
)

// Pair is a paired inner and outer appliance with a running receiver.
type Pair struct {
	Inner    *keys.Inner
	Outer    *keys.Outer
	OuterFP  string // the outer's transfer fingerprint, as the inner pins it
	Store    string // the receiver's package store
	Addr     string // the receiver's UDP address
	Receiver *receive.Receiver
	// Records is the outer's packages table (NewRecordedPair only): what
	// the receiver keeps is recorded there, and status queries are
	// answered from it.
	Records *pkgstore.Store
	stop    context.CancelFunc
	done    chan error
	cfg     receive.Config
	listen  func(addr string) (net.PacketConn, error)
}

// TestQUIC is the QUIC configuration of tests: short idle timeout so a cut
// link is noticed in seconds.
func TestQUIC(server bool) *quic.Config {
	c := transfer.ClientQUIC()
	if server {
		c = transfer.ServerQUIC(8)
	}
	c.MaxIdleTimeout = 2 * time.Second
	c.KeepAlivePeriod = 500 * time.Millisecond
	return c
}

// NewPair makes keys for both sides and starts a receiver paired with the
// inner on loopback.
func NewPair(t testing.TB, tweak func(*receive.Config)) *Pair {
	t.Helper()
	return NewPairOn(t, loopback, tweak)
}

// NewPairOn is NewPair with the receiver's socket opened by listen (given
// "" the first time, then the address it had).
func NewPairOn(t testing.TB, listen func(addr string) (net.PacketConn, error), tweak func(*receive.Config)) *Pair {
	t.Helper()
	return newPair(t, listen, nil, tweak)
}

// NewRecordedPair is NewPair with the outer's packages table in a fresh
// database of the test package's PostgreSQL (its TestMain runs
// pgtest.Main), as the outer daemon runs it.
func NewRecordedPair(t testing.TB, tweak func(*receive.Config)) *Pair {
	t.Helper()
	pool := pgtest.NewPool(t, outerstore.Migrations())
	key := make([]byte, 32)
	rand.Read(key)
	return newPair(t, loopback, pkgstore.New(pool, audit.New(pool, key)), tweak)
}

// Revoke destroys a package the outer holds, as `store revoke` does.
func (p *Pair) Revoke(t testing.TB, sum, why string) {
	t.Helper()
	if _, err := expiry.Revoke(context.Background(), p.Records, "admin.lee", sum, why); err != nil {
		t.Fatal(err)
	}
}

func loopback(addr string) (net.PacketConn, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	return net.ListenPacket("udp", addr)
}

func newPair(t testing.TB, listen func(addr string) (net.PacketConn, error), records *pkgstore.Store, tweak func(*receive.Config)) *Pair {
	t.Helper()
	dir := t.TempDir()
	if err := keys.InitInner(filepath.Join(dir, "inner")); err != nil {
		t.Fatal(err)
	}
	if err := keys.InitOuter(filepath.Join(dir, "outer")); err != nil {
		t.Fatal(err)
	}
	in, err := keys.LoadInner(filepath.Join(dir, "inner"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := keys.LoadOuter(filepath.Join(dir, "outer"))
	if err != nil {
		t.Fatal(err)
	}
	p := &Pair{Inner: in, Outer: out, OuterFP: CertFP(out.Transfer.Certificate[0]), Store: filepath.Join(dir, "store"), listen: listen, Records: records}
	store, err := pkgstore.OpenDir(p.Store, records) // the outer's own layout; its database when records is set
	if err != nil {
		t.Fatal(err)
	}
	p.cfg = receive.Config{
		Store: store, Identity: out.Transfer, QUIC: TestQUIC(true),
		Peers: map[string]receive.Peer{CertFP(in.Transfer.Certificate[0]): {Name: "city-hall", Signer: in.Signing.Public().(ed25519.PublicKey)}},
	}
	if records != nil {
		p.cfg.Records = records
	}
	if tweak != nil {
		tweak(&p.cfg)
	}
	p.Start(t)
	return p
}

// Start (re)starts the receiver, on the same port when it ran before.
func (p *Pair) Start(t testing.TB) {
	t.Helper()
	pc, err := p.listen(p.Addr)
	if err != nil {
		t.Fatal(err)
	}
	p.Addr = pc.LocalAddr().String()
	if p.Receiver, err = receive.New(p.cfg); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p.stop, p.done = cancel, make(chan error, 1)
	go func() { err := p.Receiver.Serve(ctx, pc); pc.Close(); p.done <- err }()
	t.Cleanup(func() { p.Stop(t) })
}

// Stop stops the receiver, as killing the outer daemon would.
func (p *Pair) Stop(t testing.TB) {
	if p.stop == nil {
		return
	}
	p.stop()
	p.stop = nil
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		t.Fatal("receiver did not stop")
	}
}

// CertFP is a DER certificate's pinning fingerprint.
func CertFP(der []byte) string {
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		panic(err)
	}
	return keys.CertFingerprint(cert)
}

// Package seals size random bytes, signed by the pair's inner and sealed to
// its outer, into a file and returns its path and SHA-256 (hex).
func (p *Pair) Package(t testing.TB, size int) (string, string) {
	t.Helper()
	return p.PackageWith(t, size, seal.Manifest{})
}

// PackageWith is Package with the manifest m (its delivered_sha256 set).
func (p *Pair) PackageWith(t testing.TB, size int, m seal.Manifest) (string, string) {
	t.Helper()
	video := make([]byte, size)
	rand.Read(video)
	sum := sha256.Sum256(video)
	m.DeliveredSHA256 = hex.EncodeToString(sum[:])
	var buf bytes.Buffer
	_, err := seal.Seal(&buf, bytes.NewReader(video), int64(size), m,
		seal.Options{Signer: p.Inner.Signing, Recipients: []hpke.PublicKey{p.Outer.License.PublicKey()}})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "pkg.sgpkg")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	psum := sha256.Sum256(buf.Bytes())
	return path, hex.EncodeToString(psum[:])
}
