package send_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/quic-go/quic-go"

	"sealgate/transfer"
	"sealgate/transfer/linkemu"
	"sealgate/transfer/receive"
	"sealgate/transfer/send"
	"sealgate/transfer/transfertest"
)

// startPool runs a pool of n connections to addr on one loopback UDP socket.
func startPool(t testing.TB, p *transfertest.Pair, addr string, n int, qc *quic.Config) *send.Pool {
	t.Helper()
	pc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	return runPool(t, pc, p, addr, n, qc)
}

// runPool runs a pool of n connections to addr on the socket pc until the
// test ends.
func runPool(t testing.TB, pc net.PacketConn, p *transfertest.Pair, addr string, n int, qc *quic.Config) *send.Pool {
	tr := &quic.Transport{Conn: pc}
	var log *slog.Logger
	if os.Getenv("SEALGATE_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	pool := send.NewPool(send.Target{Addr: addr, Identity: p.Inner.Transfer, OuterFingerprint: p.OuterFP, QUIC: qc, Transport: tr}, n, log, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { pool.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done; tr.Close() })
	return pool
}

// sendPool sends like the outbox does: again whenever the link was lost.
func sendPool(t *testing.T, pool *send.Pool, pkg send.Package, within time.Duration) send.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	var resumed int64
	for {
		select {
		case <-pool.Ready():
		case <-ctx.Done():
			t.Fatalf("no connection within %v", within)
		}
		res, err := pool.Send(ctx, pkg, nil, nil)
		resumed = max(resumed, res.Resumed)
		if err == nil {
			res.Resumed = max(resumed, res.Resumed)
			return res
		}
		if reason, ok := send.IsRefused(err); ok && reason != transfer.ReasonBusy {
			t.Fatalf("refused: %v", err)
		}
		if ctx.Err() != nil {
			t.Fatalf("not delivered within %v: %v", within, err)
		}
	}
}

func noPartials(t *testing.T, p *transfertest.Pair) {
	t.Helper()
	if left, _ := filepath.Glob(filepath.Join(p.Store, "incoming", "*")); len(left) != 0 {
		t.Fatalf("partial files left behind: %v", left)
	}
}

func TestPoolSplitsPackagesIntoLanes(t *testing.T) {
	p := transfertest.NewPair(t, nil)
	pool := startPool(t, p, p.Addr, 8, transfertest.TestQUIC(false))
	path, sum := p.Package(t, 24<<20)
	pkg := describe(t, path)
	if n := send.Lanes(pkg.Size); n != 24 {
		t.Fatalf("%d lanes for 24 MiB", n)
	}
	res := sendPool(t, pool, pkg, 30*time.Second)
	if res.Status != transfer.Stored || res.Sent != pkg.Size || res.Resumed != 0 {
		t.Fatalf("first delivery: %+v", res)
	}
	if got := storedSum(t, p, sum); got != sum {
		t.Fatal("stored package differs")
	}
	noPartials(t, p)
	if res := sendPool(t, pool, pkg, 10*time.Second); res.Status != transfer.Already || res.Sent != 0 {
		t.Fatalf("second delivery: %+v", res)
	}
	// Small packages go as one lane.
	small, sum := p.Package(t, 100_000)
	if res := sendPool(t, pool, describe(t, small), 10*time.Second); res.Status != transfer.Stored {
		t.Fatalf("small package: %+v", res)
	}
	if got := storedSum(t, p, sum); got != sum {
		t.Fatal("small package differs")
	}
}

// TestPoolTamperedLaneIsRefused: one lane's bytes changed in flight (here:
// the package file changed under the sender) fail the whole package's
// hash; nothing is stored and nothing partial is kept.
func TestPoolTamperedLaneIsRefused(t *testing.T) {
	p := transfertest.NewPair(t, nil)
	pool := startPool(t, p, p.Addr, 4, transfertest.TestQUIC(false))
	path, _ := p.Package(t, 8<<20)
	pkg := describe(t, path)
	b, _ := os.ReadFile(path)
	b[6<<20] ^= 1 // inside lane 3
	os.WriteFile(path, b, 0o600)
	_, err := pool.Send(context.Background(), pkg, nil, nil)
	if reason, ok := send.IsRefused(err); !ok || reason != transfer.ReasonHashMismatch {
		t.Fatalf("tampered lane: %v, want a hash mismatch refusal", err)
	}
	if stored, _ := filepath.Glob(filepath.Join(p.Store, "*.sgpkg")); len(stored) != 0 {
		t.Fatalf("stored: %v", stored)
	}
	noPartials(t, p)
}

// receivedBytes reads the outer's byte counter.
func receivedBytes(t *testing.T, reg *prometheus.Registry) float64 {
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var n float64
	for _, mf := range mfs {
		if strings.HasSuffix(mf.GetName(), "receive_bytes_total") {
			for _, m := range mf.GetMetric() {
				n += m.GetCounter().GetValue()
			}
		}
	}
	return n
}

// cutAndResume cuts the link for cut while a package flows and measures
// how long after the link returns the outer receives bytes again.
func cutAndResume(t *testing.T, cut time.Duration, qc func(server bool) *quic.Config) {
	reg := prometheus.NewRegistry()
	p := transfertest.NewPair(t, func(c *receive.Config) { c.Metrics = reg; c.QUIC = qc(true) })
	proxy := transfertest.NewProxy(t, p.Addr)
	pool := startPool(t, p, proxy.Addr, 4, qc(false))
	path, sum := p.Package(t, 64<<20)
	pkg := describe(t, path)
	proxy.CutAfter.Store(20 << 20)
	got := make(chan send.Result, 1)
	go func() { got <- sendPool(t, pool, pkg, cut+2*time.Minute) }()
	for receivedBytes(t, reg) < 5<<20 {
		time.Sleep(10 * time.Millisecond)
	}
	for before := -1.0; ; time.Sleep(200 * time.Millisecond) { // wait for the cut to bite
		now := receivedBytes(t, reg)
		if now == before {
			break
		}
		before = now
	}
	proxy.Cut()
	time.Sleep(cut)
	before := receivedBytes(t, reg)
	proxy.Restore()
	back := time.Now()
	t.Logf("link restored at %s", back.Format("15:04:05.000"))
	for receivedBytes(t, reg) == before {
		if time.Since(back) > 30*time.Second {
			t.Fatal("no byte arrived within 30 s of the link's return")
		}
		time.Sleep(5 * time.Millisecond)
	}
	resumedIn := time.Since(back)
	res := <-got
	if got := storedSum(t, p, sum); got != sum {
		t.Fatal("package differs after the cut")
	}
	noPartials(t, p)
	t.Logf("cut %v: bytes flowed again %v after the link returned; %d of %d bytes were already there", cut, resumedIn.Round(time.Millisecond), res.Resumed, pkg.Size)
	if resumedIn > time.Second {
		t.Errorf("transfer resumed %v after the link returned, want within 1 s", resumedIn)
	}
	// The outer keeps every byte that reached it, so only bytes lost in
	// flight are sent again: at most one lane's worth.
	if total := receivedBytes(t, reg); total > float64(pkg.Size+send.LaneMin) {
		t.Errorf("the outer received %.0f bytes for a %d-byte package: %.0f sent twice", total, pkg.Size, total-float64(pkg.Size))
	} else {
		t.Logf("the outer received %.0f bytes for a %d-byte package", total, pkg.Size)
	}
}

// productionQUIC is the daemons' own configuration: 30 s idle timeout.
func productionQUIC(server bool) *quic.Config {
	if server {
		return transfer.ServerQUIC(8)
	}
	return transfer.ClientQUIC()
}

// A cut shorter than the idle timeout: the connections live on but stall.
func TestResumeWithinASecondAfterShortCut(t *testing.T) {
	t.Parallel()
	cutAndResume(t, 5*time.Second, productionQUIC)
}

// A cut longer than the idle timeout (here 2 s, to keep the test short;
// `make soak` runs 60 s and 10 min cuts with the production 30 s): the
// connections die and the pool probes until the link returns.
func TestResumeWithinASecondAfterLongCut(t *testing.T) {
	t.Parallel()
	cutAndResume(t, 6*time.Second, transfertest.TestQUIC)
}

// TestResumeAfterProductionCuts cuts the link for longer than the
// production idle timeout (30 s), so the connections die: 35 s in make
// test; `make soak` sets SEALGATE_SOAK_CUTS=60s,10m.
func TestResumeAfterProductionCuts(t *testing.T) {
	t.Parallel()
	cuts := os.Getenv("SEALGATE_SOAK_CUTS")
	if cuts == "" {
		cuts = "35s"
	}
	for _, s := range strings.Split(cuts, ",") {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(s, func(t *testing.T) { cutAndResume(t, d, productionQUIC) })
	}
}

// TestDeliveryAcrossEmulatedWAN sends packages between two network
// namespaces joined by an emulated wide-area link (20 ms each way) losing
// 1 % and 5 % of packets, with the daemons' own QUIC configuration.
func TestDeliveryAcrossEmulatedWAN(t *testing.T) {
	for _, loss := range []float64{0.01, 0.05} {
		t.Run(fmt.Sprintf("loss=%g", loss), func(t *testing.T) {
			link, err := linkemu.New(linkemu.Config{Delay: 20 * time.Millisecond, Loss: loss})
			if err != nil {
				t.Fatal(err)
			}
			defer link.Close()
			p := transfertest.NewPairOn(t, func(string) (net.PacketConn, error) { return link.B.ListenUDP(4433) },
				func(c *receive.Config) { c.QUIC = productionQUIC(true) })
			pc, err := link.A.ListenUDP(0)
			if err != nil {
				t.Fatal(err)
			}
			pool := runPool(t, pc, p, p.Addr, send.DefaultConnections, nil)
			for _, size := range []int{8 << 20, 50_000} {
				path, sum := p.Package(t, size)
				start := time.Now()
				res := sendPool(t, pool, describe(t, path), 2*time.Minute)
				if res.Status != transfer.Stored {
					t.Fatalf("%+v", res)
				}
				if got := storedSum(t, p, sum); got != sum {
					t.Fatal("stored package differs")
				}
				t.Logf("%d bytes at %.0f %% loss in %v", size, loss*100, time.Since(start).Round(time.Millisecond))
			}
			noPartials(t, p)
		})
	}
}

// TestNewerOfferTakesTheLaneOver: a lane stuck on a connection the outer
// still thinks alive is taken over by the same inner's newer offer, which
// continues from what the old stream delivered.
func TestNewerOfferTakesTheLaneOver(t *testing.T) {
	p := transfertest.NewPair(t, func(c *receive.Config) { c.QUIC = productionQUIC(true) })
	proxy := transfertest.NewProxy(t, p.Addr)
	path, sum := p.Package(t, 12<<20)
	pkg := describe(t, path)
	proxy.CutAfter.Store(6 << 20)
	old := dial(t, p, proxy.Addr)
	go old.Send(context.Background(), pkg, nil) // stalls at the cut; the outer's side lives on for 30 s
	time.Sleep(1500 * time.Millisecond)
	fresh := dial(t, p, p.Addr)
	start := time.Now()
	res, err := fresh.Send(context.Background(), pkg, nil)
	if err != nil || res.Status != transfer.Stored {
		t.Fatalf("newer offer: %+v, %v", res, err)
	}
	if res.Resumed < 4<<20 || time.Since(start) > 5*time.Second {
		t.Fatalf("took over after %v, resuming at %d", time.Since(start), res.Resumed)
	}
	if got := storedSum(t, p, sum); got != sum {
		t.Fatal("package differs after the takeover")
	}
}

// TestStreamsAreReleased: each answered offer gives its stream back, so a
// connection (8 streams at once here) carries any number of offers.
func TestStreamsAreReleased(t *testing.T) {
	p := transfertest.NewPair(t, func(c *receive.Config) { c.MaxPackage = 1 << 20 })
	c := dial(t, p, p.Addr)
	stored, _ := p.Package(t, 10_000)
	big, _ := p.Package(t, 2<<20)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for i := range 40 {
		pkg, want := describe(t, stored), transfer.Already
		if i == 0 {
			want = transfer.Stored
		}
		if i%2 == 1 { // refused before a byte of it is read
			if _, err := c.Send(ctx, describe(t, big), nil); err == nil {
				t.Fatal("oversized package accepted")
			}
			continue
		}
		if res, err := c.Send(ctx, pkg, nil); err != nil || res.Status != want {
			t.Fatalf("offer %d: %+v, %v", i, res, err)
		}
	}
}
