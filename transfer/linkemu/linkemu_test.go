package linkemu_test

import (
	"context"
	"io"
	"net"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"sealgate/transfer/linkemu"
)

func newLink(t *testing.T, cfg linkemu.Config) *linkemu.Link {
	t.Helper()
	l, err := linkemu.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// echo answers UDP datagrams on side B.
func echo(t *testing.T, l *linkemu.Link) *net.UDPAddr {
	t.Helper()
	srv, err := l.B.ListenUDP(0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	go func() {
		b := make([]byte, 2048)
		for {
			n, from, err := srv.ReadFromUDP(b)
			if err != nil {
				return
			}
			srv.WriteToUDP(b[:n], from)
		}
	}()
	return srv.LocalAddr().(*net.UDPAddr)
}

func TestDelayLossCut(t *testing.T) {
	l := newLink(t, linkemu.Config{Delay: 20 * time.Millisecond})
	to := echo(t, l)
	c, err := l.A.ListenUDP(0)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	roundTrip := func() (time.Duration, bool) {
		start := time.Now()
		c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		if _, err := c.WriteToUDP([]byte("ping"), to); err != nil {
			t.Fatal(err)
		}
		b := make([]byte, 16)
		if _, _, err := c.ReadFromUDP(b); err != nil {
			return 0, false
		}
		return time.Since(start), true
	}
	for range 5 {
		rtt, ok := roundTrip()
		if !ok || rtt < 40*time.Millisecond || rtt > 80*time.Millisecond {
			t.Fatalf("round trip %v (answered %v), want 40 ms and a little", rtt, ok)
		}
	}
	l.Cut()
	if _, ok := roundTrip(); ok {
		t.Fatal("a cut link carried a packet")
	}
	l.Restore()
	if _, ok := roundTrip(); !ok {
		t.Fatal("the restored link carries nothing")
	}

	l.Set(linkemu.Config{Loss: 0.2})
	for range 400 {
		if _, err := c.WriteToUDP([]byte("ping"), to); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Microsecond) // below the socket buffers' limits
	}
	answered := 0
	c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	for b := make([]byte, 16); ; answered++ {
		if _, _, err := c.ReadFromUDP(b); err != nil {
			break
		}
	}
	// Each round trip crosses twice: 1-0.8² = 36 % lost; allow a wide band.
	if lost := 400 - answered; lost < 100 || lost > 190 {
		t.Fatalf("%d of 400 round trips lost at 20 %% loss each way, want about 144", lost)
	}
}

func TestTCPAcrossTheLink(t *testing.T) {
	t.Run("lossy", func(t *testing.T) {
		rate := tcpAcross(t, linkemu.Config{Delay: 20 * time.Millisecond, Loss: 0.01}, 16<<20)
		t.Logf("%.1f MB/s with BBR at 1 %% loss, 40 ms RTT", rate/1e6)
	})
	t.Run("rate", func(t *testing.T) {
		rate := tcpAcross(t, linkemu.Config{Delay: time.Millisecond, Rate: 4_000_000}, 8<<20)
		if rate > 4_400_000 || rate < 2_000_000 {
			t.Fatalf("%.2f MB/s across a 4 MB/s link", rate/1e6)
		}
	})
}

// tcpAcross moves size bytes over TCP with BBR across a link shaped by
// cfg and returns the rate in bytes per second.
func tcpAcross(t *testing.T, cfg linkemu.Config, size int64) float64 {
	l := newLink(t, cfg)
	ln, err := l.B.Listen(0)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan int64, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- -1
			return
		}
		n, _ := io.Copy(io.Discard, c)
		got <- n
		c.Close()
	}()
	c, err := l.A.Dial(context.Background(), ln.Addr().String(), func(fd uintptr) error {
		return unix.SetsockoptString(int(fd), unix.IPPROTO_TCP, unix.TCP_CONGESTION, "bbr")
	})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := io.CopyN(c, zero{}, size); err != nil {
		t.Fatal(err)
	}
	c.Close()
	if n := <-got; n != size {
		t.Fatalf("received %d bytes, want %d", n, size)
	}
	fwd, drop := l.Stats()
	if fwd[0] == 0 || fwd[1] == 0 || (cfg.Loss > 0 && drop[0] == 0) {
		t.Fatalf("forwarded %v, dropped %v", fwd, drop)
	}
	return float64(size) / time.Since(start).Seconds()
}

type zero struct{}

func (zero) Read(p []byte) (int, error) { clear(p); return len(p), nil }
