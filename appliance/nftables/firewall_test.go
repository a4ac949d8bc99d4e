// Package nftables_test loads the boundary rule sets (sealgate-inner.nft,
// sealgate-outer.nft) into network namespaces wired as the appliances are
// (docs/install.md, "The firewall") and shows which flows pass.
package nftables_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The test's addresses (RFC 5737 and a private prefix for the CCTV side).
const (
	cctvHost    = "10.20.0.2"    // a camera or workstation
	innerCCTV   = "10.20.0.1"    // the inner on the CCTV side (its console)
	innerBound  = "192.0.2.1"    // the inner on the boundary link
	outerBound  = "192.0.2.2"    // the outer's QUIC address
	outerPolice = "198.51.100.1" // the outer's portal
	policeHost  = "198.51.100.2" // an officer's machine
	quicPort    = 4433
	httpsPort   = 443
	consolePort = 8443
	otherPort   = 4434 // a UDP port the outer also listens on, outside the rules
	innerUDP    = 5000 // a UDP port the inner listens on
)

// lab is the five namespaces: cctv – inner – (boundary link) – outer – police.
type lab struct {
	cctv, inner, outer, police *netns
	got                        sync.Map // tokens the listeners received
}

// newLab wires the namespaces; quicEcho: a UDP echo holds the outer's QUIC
// port (else it is left for a QUIC listener).
func newLab(t *testing.T, quicEcho bool) *lab {
	t.Helper()
	l := &lab{cctv: newNetns(t, "cctv"), inner: newNetns(t, "inner"), outer: newNetns(t, "outer"), police: newNetns(t, "police")}
	veth(t, l.cctv, "c0", cctvHost+"/24", l.inner, "i0", innerCCTV+"/24")
	veth(t, l.inner, "sgbound0", innerBound+"/30", l.outer, "sgbound0", outerBound+"/30")
	veth(t, l.outer, "p0", outerPolice+"/24", l.police, "p1", policeHost+"/24")
	l.cctv.run(t, "ip", "route", "add", "default", "via", innerCCTV)
	l.police.run(t, "ip", "route", "add", "default", "via", outerPolice)
	l.inner.run(t, "ip", "route", "add", "198.51.100.0/24", "via", outerBound)
	l.outer.run(t, "ip", "route", "add", "10.20.0.0/24", "via", innerBound)
	// Both appliances would route if asked: only the rules stop it.
	for _, n := range []*netns{l.inner, l.outer} {
		n.run(t, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1")
	}
	// Every listener on every address, so only the rules decide.
	if quicEcho {
		l.udpEcho(t, l.outer, quicPort)
	}
	l.udpEcho(t, l.outer, otherPort)
	l.udpEcho(t, l.inner, innerUDP)
	l.udpEcho(t, l.cctv, innerUDP)
	l.tcpListen(t, l.outer, httpsPort)
	l.tcpListen(t, l.inner, consolePort)
	l.tcpListen(t, l.cctv, consolePort)
	return l
}

func (l *lab) loadInner(t *testing.T) {
	l.load(t, l.inner, "sealgate-inner.nft", map[string]string{
		"BOUNDARY_IF":    `"sgbound0"`,
		"OUTER_ADDR":     outerBound,
		"QUIC_PORT":      fmt.Sprint(quicPort),
		"CCTV_NET":       "10.20.0.0/24",
		"CCTV_TCP_PORTS": fmt.Sprintf("{ 22, %d }", consolePort),
	})
}

func (l *lab) loadOuter(t *testing.T) {
	l.load(t, l.outer, "sealgate-outer.nft", map[string]string{
		"BOUNDARY_IF":      `"sgbound0"`,
		"INNER_ADDRS":      "{ " + innerBound + " }",
		"QUIC_PORT":        fmt.Sprint(quicPort),
		"HTTPS_PORT":       fmt.Sprint(httpsPort),
		"CCTV_NET":         "10.20.0.0/24",
		"POLICE_TCP_PORTS": "{ 22 }",
	})
}

func (l *lab) load(t *testing.T, n *netns, file string, defs map[string]string) {
	t.Helper()
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), file)
	if err := os.WriteFile(path, []byte(fill(t, string(src), defs)), 0o600); err != nil {
		t.Fatal(err)
	}
	n.run(t, "nft", "-f", path)
	// Loading twice replaces the table rather than doubling it.
	n.run(t, "nft", "-f", path)
}

func (l *lab) udpEcho(t *testing.T, n *netns, port int) {
	t.Helper()
	var c *net.UDPConn
	if err := n.do(func() (err error) {
		pc, err := reusePort.ListenPacket(context.Background(), "udp4", fmt.Sprintf(":%d", port))
		if err == nil {
			c = pc.(*net.UDPConn)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	go func() {
		b := make([]byte, 64)
		for {
			k, from, err := c.ReadFromUDP(b)
			if err != nil {
				return
			}
			l.got.Store(string(b[:k]), true)
			c.WriteToUDP(b[:k], from)
		}
	}()
}

func (l *lab) tcpListen(t *testing.T, n *netns, port int) {
	t.Helper()
	var ln net.Listener
	if err := n.do(func() (err error) {
		ln, err = net.Listen("tcp4", fmt.Sprintf(":%d", port))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
}

// A flow is one attempt; its outcome is whether it got through.
type flow struct {
	name     string
	from     func(*lab) *netns
	proto    string // "udp": a datagram that must come back; "tcp": a connection
	srcPort  int    // 0: any
	to       string
	twoWay   bool // udp: passing needs the echo back, not only delivery
	mustPass bool // under the rules
}

const wait = 400 * time.Millisecond

// reusePort lets a probe send from a port a listener holds (the outer's
// QUIC port): the probe's connected socket takes its own flow's datagrams.
var reusePort = net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
	var serr error
	if err := c.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
	}); err != nil {
		return err
	}
	return serr
}}

// try reports whether the flow got through, and how it failed; a UDP
// flow's token is returned so a late arrival can still be caught.
func (l *lab) try(f flow) (passed bool, how, token string) {
	n := f.from(l)
	switch f.proto {
	case "tcp":
		var c net.Conn
		err := n.do(func() (err error) {
			c, err = net.DialTimeout("tcp4", f.to, wait)
			return err
		})
		if err != nil {
			return false, err.Error(), ""
		}
		c.Close()
		return true, "", ""
	default:
		token = rand.Text()
		var c *net.UDPConn
		err := n.do(func() (err error) {
			d := net.Dialer{LocalAddr: &net.UDPAddr{Port: f.srcPort}, Control: reusePort.Control}
			conn, err := d.Dial("udp4", f.to)
			if err == nil {
				c = conn.(*net.UDPConn)
			}
			return err
		})
		if err != nil {
			return false, err.Error(), token
		}
		defer c.Close()
		if _, err := c.Write([]byte(token)); err != nil {
			return false, err.Error(), token // EPERM: the sender's own output chain
		}
		c.SetReadDeadline(time.Now().Add(wait))
		b := make([]byte, 64)
		k, err := c.Read(b)
		_, delivered := l.got.Load(token)
		switch {
		case err == nil && string(b[:k]) == token:
			return true, "", token
		case delivered && !f.twoWay:
			return true, "delivered, no echo", token
		case delivered:
			return false, "delivered, but the echo did not come back", token
		case errors.Is(err, os.ErrDeadlineExceeded):
			return false, "nothing arrived", token
		}
		return false, fmt.Sprint(err), token
	}
}

func at(host string, port int) string { return net.JoinHostPort(host, fmt.Sprint(port)) }

var (
	fromCCTV   = func(l *lab) *netns { return l.cctv }
	fromInner  = func(l *lab) *netns { return l.inner }
	fromOuter  = func(l *lab) *netns { return l.outer }
	fromPolice = func(l *lab) *netns { return l.police }
)

// The flows, with what each rule set alone must do with them: pass, or
// stop. Without rules every one of them gets through (checked first), so a
// stopped flow is stopped by the rules, not by the wiring.
var flows = []struct {
	flow
	innerStops, outerStops bool
}{
	{flow: flow{name: "inner to the outer's QUIC port, and the reply", from: fromInner, proto: "udp", to: at(outerBound, quicPort), twoWay: true, mustPass: true}},
	{flow: flow{name: "officer to the portal (HTTPS)", from: fromPolice, proto: "tcp", to: at(outerPolice, httpsPort), mustPass: true}},
	{flow: flow{name: "CCTV side to the console", from: fromCCTV, proto: "tcp", to: at(innerCCTV, consolePort), mustPass: true}},
	{flow: flow{name: "inner to another UDP port of the outer", from: fromInner, proto: "udp", to: at(outerBound, otherPort)}, innerStops: true, outerStops: true},
	{flow: flow{name: "inner to the outer over TCP", from: fromInner, proto: "tcp", to: at(outerBound, httpsPort)}, innerStops: true, outerStops: true},
	{flow: flow{name: "outer opens UDP toward the inner", from: fromOuter, proto: "udp", to: at(innerBound, innerUDP)}, innerStops: true, outerStops: true},
	{flow: flow{name: "outer sends from its QUIC port to the inner (no flow)", from: fromOuter, proto: "udp", srcPort: quicPort, to: at(innerBound, innerUDP)}, innerStops: true, outerStops: true},
	{flow: flow{name: "outer connects to the inner's console (TCP)", from: fromOuter, proto: "tcp", to: at(innerBound, consolePort)}, innerStops: true, outerStops: true},
	{flow: flow{name: "outer to the CCTV network (UDP)", from: fromOuter, proto: "udp", to: at(cctvHost, innerUDP)}, innerStops: true, outerStops: true},
	{flow: flow{name: "outer to the CCTV network (TCP)", from: fromOuter, proto: "tcp", to: at(cctvHost, consolePort)}, innerStops: true, outerStops: true},
	{flow: flow{name: "officer to the inner (TCP)", from: fromPolice, proto: "tcp", to: at(innerBound, consolePort)}, innerStops: true, outerStops: true},
	{flow: flow{name: "officer to the inner (UDP)", from: fromPolice, proto: "udp", to: at(innerBound, innerUDP)}, innerStops: true, outerStops: true},
	{flow: flow{name: "officer to the outer's QUIC port", from: fromPolice, proto: "udp", to: at(outerPolice, quicPort)}, outerStops: true},
	{flow: flow{name: "CCTV host through the inner to the outer's QUIC port", from: fromCCTV, proto: "udp", to: at(outerBound, quicPort)}, innerStops: true, outerStops: true},
	{flow: flow{name: "CCTV host through the inner to the portal", from: fromCCTV, proto: "tcp", to: at(outerPolice, httpsPort)}, innerStops: true, outerStops: true},
}

// TestBoundaryFirewall wires fresh namespaces for each case (so no
// conntrack entry carries over) and tries every flow at once.
func TestBoundaryFirewall(t *testing.T) {
	needTools(t)
	cases := []struct {
		name         string
		inner, outer bool
	}{{"no rules", false, false}, {"both", true, true}, {"inner alone", true, false}, {"outer alone", false, true}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := newLab(t, true)
			if c.inner {
				l.loadInner(t)
			}
			if c.outer {
				l.loadOuter(t)
			}
			var wg sync.WaitGroup
			var late sync.Map // refused UDP flows' tokens
			for _, f := range flows {
				wg.Go(func() {
					want := f.mustPass || !(c.inner && f.innerStops || c.outer && f.outerStops)
					passed, how, token := l.try(f.flow)
					// A busy machine may be slow: a flow that must pass
					// gets three tries, a refused one is looked for again
					// after the others (a late datagram still counts).
					for i := 0; want && !passed && i < 2; i++ {
						passed, how, token = l.try(f.flow)
					}
					if passed != want {
						t.Errorf("%s (%s %s): got through %v, want %v (%s)", f.name, f.proto, f.to, passed, want, how)
					}
					if !want && token != "" {
						late.Store(f.name, token)
					}
				})
			}
			wg.Wait()
			time.Sleep(wait / 2)
			late.Range(func(name, token any) bool {
				if _, ok := l.got.Load(token); ok {
					t.Errorf("%s: the datagram arrived after all", name)
				}
				return true
			})
			if c.inner && c.outer {
				checkLogged(t, l)
			}
		})
	}
}

// checkLogged: the refusals went through the logging rules (their counters
// moved), so they reach the kernel log with the documented prefixes. The
// kernel logs only the initial namespace's packets by default, so the
// counters are what a test in a namespace can see.
func checkLogged(t *testing.T, l *lab) {
	t.Helper()
	for _, c := range []struct {
		n            *netns
		table, chain string
	}{
		{l.inner, "sealgate_inner", "boundary_out"},
		{l.inner, "sealgate_inner", "forward"},
		{l.outer, "sealgate_outer", "quic_reply"},
		{l.outer, "sealgate_outer", "refuse_in"},
		{l.outer, "sealgate_outer", "forward"},
	} {
		if n := logCounter(t, c.n, c.table, c.chain); n == 0 {
			t.Errorf("%s %s: the log rule's counter is 0", c.table, c.chain)
		}
	}
}

func logCounter(t *testing.T, n *netns, table, chain string) int {
	t.Helper()
	var doc struct {
		Nftables []struct {
			Rule *struct {
				Expr []map[string]json.RawMessage
			}
		}
	}
	if err := json.Unmarshal([]byte(n.run(t, "nft", "-j", "list", "chain", "inet", table, chain)), &doc); err != nil {
		t.Fatal(err)
	}
	for _, item := range doc.Nftables {
		if item.Rule == nil {
			continue
		}
		var packets int
		logs := false
		for _, e := range item.Rule.Expr {
			if raw, ok := e["counter"]; ok {
				var c struct{ Packets int }
				json.Unmarshal(raw, &c)
				packets = c.Packets
			}
			if _, ok := e["log"]; ok {
				logs = true
			}
		}
		if logs {
			return packets
		}
	}
	t.Fatalf("%s %s: no log rule", table, chain)
	return 0
}

// TestRuleSetsParse: the files as shipped (with their example defines)
// are valid rule sets.
func TestRuleSetsParse(t *testing.T) {
	needTools(t)
	for _, f := range []string{"sealgate-inner.nft", "sealgate-outer.nft"} {
		n := newNetns(t, f) // nft -c needs no namespace, but then touches none of the machine's
		n.run(t, "nft", "-c", "-f", f)
	}
}
