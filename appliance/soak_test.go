package appliance_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"io"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"sealgate/inner/outbox"
	"sealgate/inner/store"
	"sealgate/shared/audit"
	"sealgate/shared/pgdb/pgtest"
	"sealgate/transfer/send"
	"sealgate/transfer/transfertest"
)

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return n
	}
	return def
}

// TestSoakDeliveryAcrossKills queues small and large packages in the real
// outbox and keeps killing the outer's receiver or the inner's sender
// while they flow: every package must arrive exactly once, byte for byte.
// `make soak` runs the acceptance sizes (SEALGATE_SOAK_SMALL=1000,
// SEALGATE_SOAK_LARGE=3, SEALGATE_SOAK_LARGE_MB=2048); make test a smaller set.
func TestSoakDeliveryAcrossKills(t *testing.T) {
	small, large, largeMB := envInt("SEALGATE_SOAK_SMALL", 150), envInt("SEALGATE_SOAK_LARGE", 1), envInt("SEALGATE_SOAK_LARGE_MB", 48)
	chaos := time.Duration(envInt("SEALGATE_SOAK_CHAOS_S", 12)) * time.Second
	ctx := context.Background()
	p := transfertest.NewPair(t, nil)
	pool := pgtest.NewPool(t, store.Migrations())
	key := make([]byte, 32)
	rand.Read(key)
	auditLog := audit.New(pool, key)
	ob, err := outbox.New(pool, filepath.Join(t.TempDir(), "outbox"), auditLog)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	queue := func(size int) {
		path, sum := p.Package(t, size)
		if _, err := ob.Add(ctx, "soak", path, p.Inner.Signing.Public().(ed25519.PublicKey), mrand.IntN(3)); err != nil {
			t.Fatal(err)
		}
		os.Remove(path) // the outbox keeps its own copy
		want[sum] = true
	}
	for range large {
		queue(largeMB << 20)
	}
	for range small {
		queue(1000 + mrand.IntN(200_000))
	}

	type run struct {
		stop context.CancelFunc
		done chan struct{}
	}
	start := func() run {
		c, cancel := context.WithCancel(ctx)
		r := run{stop: cancel, done: make(chan struct{})}
		s := send.New(send.Config{Addr: p.Addr, OuterFingerprint: p.OuterFP, Identity: p.Inner.Transfer, Streams: 8,
			Poll: 50 * time.Millisecond, QUIC: transfertest.TestQUIC(false)}, ob.Sending(p.Inner.Signing.Public().(ed25519.PublicKey)), nil)
		go func() { s.Run(c); close(r.done) }()
		return r
	}
	sender := start()
	kills := 0
	for end := time.Now().Add(chaos); time.Now().Before(end); kills++ {
		time.Sleep(time.Duration(300+mrand.IntN(1200)) * time.Millisecond)
		if mrand.IntN(2) == 0 {
			p.Stop(t) // the outer goes down mid-transfer
			time.Sleep(100 * time.Millisecond)
			p.Start(t)
		} else {
			sender.stop() // the inner goes down mid-transfer
			<-sender.done
			sender = start()
		}
	}
	deadline := time.Now().Add(5 * time.Minute)
	for {
		depth, _, err := ob.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if depth == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d packages still queued 5 minutes after the kills stopped", depth)
		}
		time.Sleep(200 * time.Millisecond)
	}
	sender.stop()
	<-sender.done

	entries, _ := ob.List(ctx)
	for _, e := range entries {
		if e.State != "delivered" {
			t.Errorf("package %s ended %s (%s)", e.SHA256, e.State, e.LastError)
		}
	}
	for sum := range want {
		f, err := os.Open(filepath.Join(p.Store, sum+".sgpkg"))
		if err != nil {
			t.Fatalf("lost: %s", sum)
		}
		h := sha256.New()
		io.Copy(h, f)
		f.Close()
		if hex.EncodeToString(h.Sum(nil)) != sum {
			t.Fatalf("stored package %s differs", sum)
		}
	}
	stored, _ := filepath.Glob(filepath.Join(p.Store, "*.sgpkg"))
	partial, _ := filepath.Glob(filepath.Join(p.Store, "incoming", "*"))
	delivered, _ := auditLog.Query(ctx, audit.Filter{Action: "transfer.deliver", Limit: 10000})
	if len(stored) != len(want) || len(partial) != 0 || len(delivered) != len(want) {
		t.Fatalf("stored %d, partial %d, delivered %d times; want %d, 0, %d", len(stored), len(partial), len(delivered), len(want), len(want))
	}
	t.Logf("%d packages (%d of %d MiB) delivered exactly once across %d kills", len(want), large, largeMB, kills)
}
