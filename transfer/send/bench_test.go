package send_test

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"sealgate/transfer/send"
	"sealgate/transfer/transfertest"
)

// BenchmarkLoopback measures goodput on loopback: a 256 MiB package sent
// over QUIC, hashed, signature-verified, synced and stored by the outer,
// beside TLS 1.3 over TCP merely moving the same bytes, in the same run.
func BenchmarkLoopback(b *testing.B) {
	p := transfertest.NewPair(b, nil)
	path, sum := p.Package(b, 256<<20)
	pkg, err := send.Describe(path)
	if err != nil {
		b.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	var quicTime, tcpTime time.Duration
	for range b.N {
		os.Remove(filepath.Join(p.Store, sum+".sgpkg"))
		ctx := context.Background()
		c, err := send.Dial(ctx, p.Addr, p.Inner.Transfer, p.OuterFP, nil)
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		if _, err := c.Send(ctx, pkg, nil); err != nil {
			b.Fatal(err)
		}
		quicTime += time.Since(start)
		c.Close()
		tcpTime += tlsOverTCP(b, p, data)
	}
	mb := float64(len(data)) * float64(b.N) / 1e6
	b.ReportMetric(mb/quicTime.Seconds(), "quic-stored-MB/s")
	b.ReportMetric(mb/tcpTime.Seconds(), "tls-tcp-moved-MB/s")
	b.ReportMetric(100*tcpTime.Seconds()/quicTime.Seconds(), "quic-%of-tls")
}

// tlsOverTCP moves data over TLS 1.3 on loopback TCP with the same
// identities, and times it until the receiver has read every byte.
func tlsOverTCP(b *testing.B, p *transfertest.Pair, data []byte) time.Duration {
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{p.Outer.Transfer}, MinVersion: tls.VersionTLS13})
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	done := make(chan time.Time, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		io.Copy(io.Discard, c)
		done <- time.Now()
		c.Close()
	}()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	tc := tls.Client(conn, &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS13})
	if err := tc.Handshake(); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	tc.Write(data)
	tc.CloseWrite()
	end := <-done
	tc.Close()
	return end.Sub(start)
}
