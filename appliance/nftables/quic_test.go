package nftables_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"io"
	"math/big"
	"net"
	"testing"
	"time"

	"github.com/quic-go/quic-go"
)

// TestQUICThroughBoundary: a real QUIC connection from the inner to the
// outer's port, through both rule sets, carries a megabyte each way (the
// transfer's own QUIC library, as in transfer/send and transfer/receive).
func TestQUICThroughBoundary(t *testing.T) {
	needTools(t)
	l := newLab(t, false)
	l.loadInner(t)
	l.loadOuter(t)
	tlsConf := selfSigned(t)

	var pc net.PacketConn
	if err := l.outer.do(func() (err error) {
		pc, err = net.ListenPacket("udp4", at(outerBound, quicPort))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	ln, err := quic.Listen(pc, tlsConf, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	defer pc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go func() { // the outer's side: echo one stream
		conn, err := ln.Accept(ctx)
		if err != nil {
			return
		}
		s, err := conn.AcceptStream(ctx)
		if err != nil {
			return
		}
		io.Copy(s, s)
		s.Close()
	}()

	var cpc net.PacketConn
	if err := l.inner.do(func() (err error) {
		cpc, err = net.ListenPacket("udp4", ":0")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	tr := &quic.Transport{Conn: cpc}
	defer tr.Close()
	raddr, _ := net.ResolveUDPAddr("udp4", at(outerBound, quicPort))
	conn, err := tr.Dial(ctx, raddr, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"sealgate-fw-test"}}, nil)
	if err != nil {
		t.Fatalf("QUIC handshake from the inner through both rule sets: %v", err)
	}
	defer conn.CloseWithError(0, "")
	s, err := conn.OpenStreamSync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := make([]byte, 1<<20)
	rand.Read(want)
	go func() { s.Write(want); s.Close() }()
	got, err := io.ReadAll(s)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("echoed %d of %d bytes: %v", len(got), len(want), err)
	}
}

func selfSigned(t *testing.T) *tls.Config {
	t.Helper()
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, priv)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: priv}}, NextProtos: []string{"sealgate-fw-test"}}
}
