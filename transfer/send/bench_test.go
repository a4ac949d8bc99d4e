package send_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"sealgate/transfer/linkemu"
	"sealgate/transfer/send"
	"sealgate/transfer/transfertest"
)

// BenchmarkLoopback measures goodput on loopback: a 256 MiB package sent
// over QUIC by a pool of the default size (and by one connection), hashed,
// signature-verified, synced and stored by the outer, beside TLS 1.3 over
// TCP merely moving the same bytes, in the same run.
func BenchmarkLoopback(b *testing.B) {
	for _, conns := range []int{1, send.DefaultConnections} {
		b.Run(fmt.Sprintf("conns=%d", conns), func(b *testing.B) { loopback(b, conns) })
	}
}

func loopback(b *testing.B, conns int) {
	p := transfertest.NewPair(b, nil)
	pc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	race(b, p, 256<<20, runPool(b, pc, p, p.Addr, conns, nil), "tls-tcp-moved-MB/s", func(data []byte) time.Duration {
		return tlsOverTCP(b, p, data, loopbackTCP, loopbackDial)
	})
}

// race sends a package of size bytes b.N times through pool, each time
// stored anew, and moves the same bytes with tcp, and reports both rates.
func race(b *testing.B, p *transfertest.Pair, size int, pool *send.Pool, tcpUnit string, tcp func(data []byte) time.Duration) {
	path, sum := p.Package(b, size)
	pkg, err := send.Describe(path)
	if err != nil {
		b.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	<-pool.Ready()
	time.Sleep(time.Second) // let the pool fill
	var quicTime, tcpTime time.Duration
	b.ResetTimer()
	for range b.N {
		os.Remove(filepath.Join(p.Store, sum+".sgpkg"))
		start := time.Now()
		if _, err := pool.Send(context.Background(), pkg, nil, nil); err != nil {
			b.Fatal(err)
		}
		quicTime += time.Since(start)
		tcpTime += tcp(data)
	}
	mb := float64(len(data)) * float64(b.N) / 1e6
	b.ReportMetric(mb/quicTime.Seconds(), "quic-stored-MB/s")
	b.ReportMetric(mb/tcpTime.Seconds(), tcpUnit)
	b.ReportMetric(100*tcpTime.Seconds()/quicTime.Seconds(), "quic-%of-tcp")
}

func loopbackTCP() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }

func loopbackDial(addr string) (net.Conn, error) { return net.Dial("tcp", addr) }

// tlsOverTCP moves data over TLS 1.3 over TCP with the same identities, and
// times it until the receiver has read every byte.
func tlsOverTCP(b *testing.B, p *transfertest.Pair, data []byte, listen func() (net.Listener, error), dial func(string) (net.Conn, error)) time.Duration {
	tcp, err := listen()
	if err != nil {
		b.Fatal(err)
	}
	ln := tls.NewListener(tcp, &tls.Config{Certificates: []tls.Certificate{p.Outer.Transfer}, MinVersion: tls.VersionTLS13})
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
	conn, err := dial(ln.Addr().String())
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

// BenchmarkLossyLink measures goodput across an emulated wide-area link
// (20 ms each way, 1 % of packets lost each way) between two network
// namespaces: a 64 MiB package sent by a pool of QUIC connections and
// verified and stored by the outer, beside TLS 1.3 over TCP with the
// kernel's BBR moving the same bytes over the same link, in the same run.
// The link runs as fast as the emulator can, or at 100 Mbit/s (a leased
// line) with a bandwidth-delay-product queue.
func BenchmarkLossyLink(b *testing.B) {
	for _, rate := range []int64{0, 12_500_000} {
		for _, conns := range []int{send.DefaultConnections} {
			name := fmt.Sprintf("rate=%s/conns=%d", map[bool]string{true: "unlimited", false: "100Mbps"}[rate == 0], conns)
			b.Run(name, func(b *testing.B) { lossyLink(b, rate, conns) })
		}
	}
}

func lossyLink(b *testing.B, rate int64, conns int) {
	link, err := linkemu.New(linkemu.Config{Delay: 20 * time.Millisecond, Loss: 0.01, Rate: rate, Queue: 340})
	if err != nil {
		b.Fatal(err)
	}
	defer link.Close()
	p := transfertest.NewPairOn(b, func(string) (net.PacketConn, error) { return link.B.ListenUDP(4433) }, nil)
	pc, err := link.A.ListenUDP(0)
	if err != nil {
		b.Fatal(err)
	}
	bbr := func(addr string) (net.Conn, error) {
		return link.A.Dial(context.Background(), addr, func(fd uintptr) error {
			return unix.SetsockoptString(int(fd), unix.IPPROTO_TCP, unix.TCP_CONGESTION, "bbr")
		})
	}
	race(b, p, 64<<20, runPool(b, pc, p, p.Addr, conns, nil), "tls-tcp-bbr-MB/s", func(data []byte) time.Duration {
		return tlsOverTCP(b, p, data, func() (net.Listener, error) { return link.B.Listen(0) }, bbr)
	})
}
