package transfertest

import (
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"testing"
)

// Proxy relays UDP between one client and a server, and can cut the link
// (drop everything) or lose a fraction of packets in both directions: the
// user-space link emulator of the transfer tests.
type Proxy struct {
	Addr   string
	server *net.UDPAddr
	conn   *net.UDPConn
	cut    atomic.Bool
	loss   atomic.Uint64 // per million
	// CutAfter, when set, cuts the link once this many bytes went to the server.
	CutAfter atomic.Int64
	relayed  atomic.Int64

	mu       sync.Mutex
	client   *net.UDPAddr
	upstream *net.UDPConn
}

// NewProxy relays to server until the test ends.
func NewProxy(t testing.TB, server string) *Proxy {
	t.Helper()
	sa, err := net.ResolveUDPAddr("udp", server)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	up, err := net.DialUDP("udp", nil, sa)
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{Addr: conn.LocalAddr().String(), server: sa, conn: conn, upstream: up}
	t.Cleanup(func() { conn.Close(); up.Close() })
	go p.toServer()
	go p.toClient()
	return p
}

// Cut drops every packet until Restore.
func (p *Proxy) Cut() { p.cut.Store(true) }

// Restore lets packets through again.
func (p *Proxy) Restore() { p.CutAfter.Store(0); p.cut.Store(false) }

// SetLoss loses fraction (0…1) of the packets in each direction.
func (p *Proxy) SetLoss(fraction float64) { p.loss.Store(uint64(fraction * 1e6)) }

func (p *Proxy) drop(n int) bool {
	if after := p.CutAfter.Load(); after > 0 && p.relayed.Add(int64(n)) > after {
		p.cut.Store(true)
	}
	return p.cut.Load() || rand.Uint64N(1e6) < p.loss.Load()
}

func (p *Proxy) toServer() {
	buf := make([]byte, 65536)
	for {
		n, from, err := p.conn.ReadFromUDP(buf)
		if err != nil {
			return
		}
		p.mu.Lock()
		p.client = from
		p.mu.Unlock()
		if !p.drop(n) {
			p.upstream.Write(buf[:n])
		}
	}
}

func (p *Proxy) toClient() {
	buf := make([]byte, 65536)
	for {
		n, err := p.upstream.Read(buf)
		if err != nil {
			return
		}
		p.mu.Lock()
		client := p.client
		p.mu.Unlock()
		if client != nil && !p.drop(0) {
			p.conn.WriteToUDP(buf[:n], client)
		}
	}
}
