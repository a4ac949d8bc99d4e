package send_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/quic-go/quic-go"

	"sealgate/shared/seal"
	"sealgate/transfer"
	"sealgate/transfer/receive"
	"sealgate/transfer/send"
	"sealgate/transfer/transfertest"
)

func dial(t *testing.T, p *transfertest.Pair, addr string) *send.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := send.Dial(ctx, addr, p.Inner.Transfer, p.OuterFP, transfertest.TestQUIC(false))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func describe(t *testing.T, path string) send.Package {
	t.Helper()
	pkg, err := send.Describe(path)
	if err != nil {
		t.Fatal(err)
	}
	return pkg
}

func storedSum(t *testing.T, p *transfertest.Pair, sum string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(p.Store, sum+".sgpkg"))
	if err != nil {
		t.Fatalf("package not in the store: %v", err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestDeliverStoreOnceAndAlready(t *testing.T) {
	p := transfertest.NewPair(t, nil)
	c := dial(t, p, p.Addr)
	path, sum := p.Package(t, 3<<20)
	res, err := c.Send(context.Background(), describe(t, path), nil)
	if err != nil || res.Status != transfer.Stored || res.Resumed != 0 {
		t.Fatalf("Send: %+v, %v", res, err)
	}
	if got := storedSum(t, p, sum); got != sum {
		t.Fatalf("stored package hashes to %s, want %s", got, sum)
	}
	res, err = c.Send(context.Background(), describe(t, path), nil)
	if err != nil || res.Status != transfer.Already || res.Sent != 0 {
		t.Fatalf("second Send: %+v, %v", res, err)
	}
}

func TestManyPackagesInParallel(t *testing.T) {
	p := transfertest.NewPair(t, nil)
	c := dial(t, p, p.Addr)
	errs := make(chan error, 20)
	for range 20 {
		path, _ := p.Package(t, 50_000)
		go func() {
			_, err := c.Send(context.Background(), describe(t, path), nil)
			errs <- err
		}()
	}
	for range 20 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	entries, _ := filepath.Glob(filepath.Join(p.Store, "*.sgpkg"))
	if len(entries) != 20 {
		t.Fatalf("%d packages stored, want 20", len(entries))
	}
}

func TestTamperedPackageIsRefused(t *testing.T) {
	p := transfertest.NewPair(t, nil)
	c := dial(t, p, p.Addr)
	path, _ := p.Package(t, 200_000)
	b, _ := os.ReadFile(path)
	b[len(b)/2] ^= 1 // altered after sealing (the offer's hash matches the altered bytes)
	os.WriteFile(path, b, 0o600)
	_, err := c.Send(context.Background(), describe(t, path), nil)
	if reason, ok := send.IsRefused(err); !ok || reason != transfer.ReasonBadPackage || reason.Retryable() {
		t.Fatalf("tampered package: %v", err)
	}
	if entries, _ := filepath.Glob(filepath.Join(p.Store, "*.sgpkg")); len(entries) != 0 {
		t.Fatalf("tampered package stored: %v", entries)
	}
	// A package signed by an appliance that is not the paired one is refused too.
	other := transfertest.NewPair(t, nil)
	path, _ = other.Package(t, 10_000)
	if _, err := c.Send(context.Background(), describe(t, path), nil); err == nil {
		t.Fatal("a package signed by an unpaired appliance was stored")
	}
}

func TestUnpairedPeersAreRefused(t *testing.T) {
	p := transfertest.NewPair(t, nil)
	stranger := transfertest.NewPair(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// An inner the outer did not pair with.
	if c, err := send.Dial(ctx, p.Addr, stranger.Inner.Transfer, p.OuterFP, transfertest.TestQUIC(false)); err == nil {
		// TLS 1.3 reports the client certificate's rejection after the handshake.
		path, _ := p.Package(t, 1000)
		if _, err := c.Send(ctx, describe(t, path), nil); err == nil {
			t.Fatal("an unpaired inner delivered a package")
		}
	}
	// An outer the inner did not pin.
	if _, err := send.Dial(ctx, stranger.Addr, p.Inner.Transfer, p.OuterFP, transfertest.TestQUIC(false)); !errors.Is(err, transfer.ErrUnpaired) {
		t.Fatalf("dialling an unpinned outer: %v", err)
	}
}

// TestOuterCannotOpenStreams is the one-way rule: the outer side of a
// connection cannot open a stream of either kind towards the inner.
func TestOuterCannotOpenStreams(t *testing.T) {
	inner, outer := transfertest.NewPair(t, nil), transfertest.NewPair(t, nil)
	outer.Stop(t) // use the keys only; this test runs its own listener
	ln, err := quic.ListenAddr("127.0.0.1:0", transfer.ServerTLS(outer.Outer.Transfer, func(string) bool { return true }), transfertest.TestQUIC(true))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	go send.Dial(ctx, ln.Addr().String(), inner.Inner.Transfer, transfertest.CertFP(outer.Outer.Transfer.Certificate[0]), transfertest.TestQUIC(false))
	conn, err := ln.Accept(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.OpenStream(); !errors.As(err, new(*quic.StreamLimitReachedError)) {
		t.Fatalf("outer OpenStream: %v, want StreamLimitReachedError", err)
	}
	if _, err := conn.OpenUniStream(); !errors.As(err, new(*quic.StreamLimitReachedError)) {
		t.Fatalf("outer OpenUniStream: %v, want StreamLimitReachedError", err)
	}
}

// sendUntilStored retries like the outbox does, redialling after errors.
func sendUntilStored(t *testing.T, p *transfertest.Pair, addr string, pkg send.Package) (resumed int64) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		c, err := send.Dial(ctx, addr, p.Inner.Transfer, p.OuterFP, transfertest.TestQUIC(false))
		if err == nil {
			res, err := c.Send(ctx, pkg, nil)
			c.Close()
			cancel()
			if err == nil {
				return max(resumed, res.Resumed)
			}
			if reason, ok := send.IsRefused(err); ok && !reason.Retryable() {
				t.Fatalf("refused: %v", err)
			}
			continue
		}
		cancel()
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatal("package not delivered within 60 s")
	return 0
}

func TestResumeAfterLinkCut(t *testing.T) {
	p := transfertest.NewPair(t, nil)
	proxy := transfertest.NewProxy(t, p.Addr)
	path, sum := p.Package(t, 40<<20)
	pkg := describe(t, path)
	proxy.CutAfter.Store(15 << 20)
	c := dial(t, p, proxy.Addr)
	if _, err := c.Send(context.Background(), pkg, nil); err == nil {
		t.Fatal("send through a cut link succeeded")
	}
	time.Sleep(2500 * time.Millisecond) // the outer notices the dead connection and syncs
	proxy.Restore()
	resumed := sendUntilStored(t, p, proxy.Addr, pkg)
	if resumed < 5<<20 {
		t.Fatalf("resumed from byte %d: the transfer started over", resumed)
	}
	if got := storedSum(t, p, sum); got != sum {
		t.Fatal("resumed package differs")
	}
}

func TestOuterRestartMidTransfer(t *testing.T) {
	p := transfertest.NewPair(t, nil)
	proxy := transfertest.NewProxy(t, p.Addr)
	path, sum := p.Package(t, 30<<20)
	pkg := describe(t, path)
	proxy.CutAfter.Store(10 << 20)
	c := dial(t, p, proxy.Addr)
	go c.Send(context.Background(), pkg, nil)
	time.Sleep(time.Second)
	p.Stop(t) // the outer daemon goes away mid-package
	p.Start(t)
	proxy.Restore()
	if resumed := sendUntilStored(t, p, proxy.Addr, pkg); resumed == 0 {
		t.Fatal("after the outer restarted the transfer started over")
	}
	if got := storedSum(t, p, sum); got != sum {
		t.Fatal("package differs after the restart")
	}
}

func TestLossyLinkDelivers(t *testing.T) {
	p := transfertest.NewPair(t, nil)
	proxy := transfertest.NewProxy(t, p.Addr)
	proxy.SetLoss(0.05)
	path, sum := p.Package(t, 2<<20)
	sendUntilStored(t, p, proxy.Addr, describe(t, path))
	if got := storedSum(t, p, sum); got != sum {
		t.Fatal("package differs after a lossy link")
	}
}

func TestQuotaAndSizeRefusals(t *testing.T) {
	p := transfertest.NewPair(t, func(c *receive.Config) { c.Quota = 1 << 20; c.MaxPackage = 4 << 20 })
	c := dial(t, p, p.Addr)
	big, _ := p.Package(t, 5<<20)
	if reason, _ := send.IsRefused(second(c.Send(context.Background(), describe(t, big), nil))); reason != transfer.ReasonTooLarge {
		t.Fatalf("package over the size limit: %v", reason)
	}
	mid, _ := p.Package(t, 2<<20)
	_, err := c.Send(context.Background(), describe(t, mid), nil)
	if reason, ok := send.IsRefused(err); !ok || reason != transfer.ReasonQuota || !reason.Retryable() {
		t.Fatalf("package over the quota: %v", err)
	}
}

func second[T any](_ T, err error) error { return err }

// nearlyFull is a store on a disk with less free than the reserve.
type nearlyFull struct{ receive.Store }

func (nearlyFull) Free() int64 { return receive.DiskReserve + 1<<20 }

// Without a quota, an arrival that would eat into the disk's reserve is
// refused for now, as a full disk is, and leaves nothing behind.
func TestDiskReserveIsKept(t *testing.T) {
	p := transfertest.NewPair(t, func(c *receive.Config) { c.Store = nearlyFull{c.Store} })
	c := dial(t, p, p.Addr)
	small, sum := p.Package(t, 512<<10)
	if _, err := c.Send(context.Background(), describe(t, small), nil); err != nil {
		t.Fatalf("a package that leaves the reserve free: %v", err)
	}
	if got := storedSum(t, p, sum); got != sum {
		t.Fatal("the small package was not kept")
	}
	big, _ := p.Package(t, 2<<20)
	_, err := c.Send(context.Background(), describe(t, big), nil)
	if reason, ok := send.IsRefused(err); !ok || reason != transfer.ReasonDiskFull || !reason.Retryable() {
		t.Fatalf("a package into the disk's reserve: %v, want a retryable disk-full refusal", err)
	}
	if left, _ := filepath.Glob(filepath.Join(p.Store, "incoming", "*")); len(left) != 0 {
		t.Errorf("a refused arrival left %v", left)
	}
}

// unrecorded keeps packages but fails to record them, as the outer's store
// does when its database fails after the file has moved.
type unrecorded struct{ receive.Store }

func (u unrecorded) Keep(ctx context.Context, peer string, sum [32]byte, size int64, data string, m *seal.Manifest) error {
	if err := u.Store.Keep(ctx, peer, sum, size, data, m); err != nil {
		return err
	}
	return errors.New("record package: database unavailable")
}

// A package kept but not recorded is refused for now (the inner offers it
// again), leaves nothing arriving behind, and is Already at the next offer.
func TestKeptButNotRecorded(t *testing.T) {
	p := transfertest.NewPair(t, func(c *receive.Config) { c.Store = unrecorded{c.Store} })
	c := dial(t, p, p.Addr)
	path, sum := p.Package(t, 1<<20)
	_, err := c.Send(context.Background(), describe(t, path), nil)
	if reason, ok := send.IsRefused(err); !ok || reason != transfer.ReasonInternal || !reason.Retryable() {
		t.Fatalf("Send with the record failing: %v, want a retryable internal refusal", err)
	}
	if got := storedSum(t, p, sum); got != sum {
		t.Fatalf("kept package hashes to %s, want %s", got, sum)
	}
	if left, _ := filepath.Glob(filepath.Join(p.Store, "incoming", "*")); len(left) != 0 {
		t.Fatalf("left arriving: %v", left)
	}
	res, err := c.Send(context.Background(), describe(t, path), nil)
	if err != nil || res.Status != transfer.Already {
		t.Fatalf("offered again: %+v, %v, want Already", res, err)
	}
}

// A daemon killed between keeping a package and removing its lane record
// left the record in incoming/ for ever (found by TestSoakSIGKILL): the
// next offer of the kept package answers Already and clears it.
func TestStaleArrivalOfAKeptPackageIsCleared(t *testing.T) {
	p := transfertest.NewPair(t, nil)
	c := dial(t, p, p.Addr)
	path, sum := p.Package(t, 256<<10)
	if _, err := c.Send(context.Background(), describe(t, path), nil); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(p.Store, "incoming", sum+".lanes")
	if err := os.WriteFile(stale, []byte("left by a killed daemon"), 0o600); err != nil {
		t.Fatal(err)
	}
	res, err := c.Send(context.Background(), describe(t, path), nil)
	if err != nil || res.Status != transfer.Already {
		t.Fatalf("offered again: %+v, %v, want Already", res, err)
	}
	if left, _ := filepath.Glob(filepath.Join(p.Store, "incoming", "*")); len(left) != 0 {
		t.Fatalf("left arriving: %v", left)
	}
}
