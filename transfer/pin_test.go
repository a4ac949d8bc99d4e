package transfer_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quic-go/quic-go"

	"sealgate/shared/keys"
	"sealgate/transfer"
)

// An inner unpaired while the outer runs must not come back on a session
// it resumed: the pin is checked on every handshake, and the outer gives
// out no tickets.
func TestUnpairedPeerCannotResume(t *testing.T) {
	innerDir, outerDir := filepath.Join(t.TempDir(), "inner"), filepath.Join(t.TempDir(), "outer")
	if err := keys.InitInner(innerDir); err != nil {
		t.Fatal(err)
	}
	if err := keys.InitOuter(outerDir); err != nil {
		t.Fatal(err)
	}
	inner, err := keys.LoadInner(innerDir)
	if err != nil {
		t.Fatal(err)
	}
	outer, err := keys.LoadOuter(outerDir)
	if err != nil {
		t.Fatal(err)
	}
	fp := func(c tls.Certificate) string {
		cert, err := x509.ParseCertificate(c.Certificate[0])
		if err != nil {
			t.Fatal(err)
		}
		return keys.CertFingerprint(cert)
	}
	var paired atomic.Bool
	paired.Store(true)
	innerFP := fp(inner.Transfer)
	server := transfer.ServerTLS(outer.Transfer, func(f string) bool { return paired.Load() && f == innerFP })
	ln, err := quic.ListenAddr("127.0.0.1:0", server, transfer.ServerQUIC(1))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	go func() {
		for {
			c, err := ln.Accept(ctx)
			if err != nil {
				return
			}
			go func() { <-c.Context().Done() }()
		}
	}()

	client := transfer.ClientTLS(inner.Transfer, fp(outer.Transfer))
	client.ClientSessionCache = tls.NewLRUClientSessionCache(4) // a client that would resume if it could
	dial := func() (*quic.Conn, error) {
		return quic.DialAddr(ctx, ln.Addr().String(), client, transfer.ClientQUIC())
	}
	c, err := dial()
	if err != nil {
		t.Fatalf("a paired inner is refused: %v", err)
	}
	time.Sleep(200 * time.Millisecond) // a ticket, if one were sent, arrives after the handshake
	select {
	case <-c.Context().Done():
		t.Fatalf("the outer closed a paired inner's connection: %v", context.Cause(c.Context()))
	default:
	}
	c.CloseWithError(0, "")
	if c.ConnectionState().TLS.DidResume {
		t.Fatal("the first connection resumed")
	}

	// In TLS 1.3 the client is done before the server has checked its
	// certificate: a refused inner learns it as the outer closes the
	// connection.
	refused := func(what string) {
		t.Helper()
		c, err := dial()
		if err != nil {
			return
		}
		defer c.CloseWithError(0, "")
		select {
		case <-c.Context().Done():
			if c.ConnectionState().TLS.DidResume {
				t.Errorf("%s: the connection resumed", what)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: connected (resumed %v)", what, c.ConnectionState().TLS.DidResume)
		}
	}
	paired.Store(false)
	refused("an unpaired inner")
	// The client pins the outer the same way.
	paired.Store(true)
	wrong := transfer.ClientTLS(inner.Transfer, innerFP)
	if c, err := quic.DialAddr(ctx, ln.Addr().String(), wrong, transfer.ClientQUIC()); err == nil {
		c.CloseWithError(0, "")
		t.Fatal("the inner accepted an outer whose key it did not pin")
	}
}
