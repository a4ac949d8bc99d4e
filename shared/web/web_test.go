package web_test

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sealgate/shared/web"
)

func TestSelfSignedCertificateIsMadeOnceAndKept(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tls")
	c1, err := web.LoadOrCreateCert("", "", dir, []string{"console.cctv.local", "10.1.2.3"})
	if err != nil || !c1.Generated {
		t.Fatalf("first load: %+v, %v", c1, err)
	}
	fi, err := os.Stat(filepath.Join(dir, "console.key"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("generated key mode %v (%v), want 0600", fi.Mode().Perm(), err)
	}
	leaf := c1.TLS.Leaf
	if leaf == nil || leaf.VerifyHostname("console.cctv.local") != nil || leaf.VerifyHostname("10.1.2.3") != nil || leaf.VerifyHostname("localhost") != nil {
		t.Fatalf("certificate names: %v %v", leaf.DNSNames, leaf.IPAddresses)
	}
	c2, err := web.LoadOrCreateCert("", "", dir, nil)
	if err != nil || c2.Generated || c2.Fingerprint != c1.Fingerprint {
		t.Fatalf("second load made a new certificate: %+v, %v", c2, err)
	}
	if err := os.Chmod(filepath.Join(dir, "console.key"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := web.LoadOrCreateCert("", "", dir, nil); err == nil || !strings.Contains(err.Error(), "0644") {
		t.Fatalf("world-readable TLS key accepted: %v", err)
	}
}

func TestServeShutdownIsBounded(t *testing.T) {
	lns, err := web.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	entered := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		time.Sleep(10 * time.Second) // a request that outlives the grace period
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- web.Serve(ctx, lns[0], h, nil, 200*time.Millisecond, slog.New(slog.DiscardHandler)) }()
	go http.Get("http://" + lns[0].Addr().String() + "/")
	<-entered
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		if err == nil {
			t.Error("Serve hid that a request was cut off")
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("shutdown took %v with a 200 ms grace", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after its grace period")
	}
}

func TestListenIsAllOrNothing(t *testing.T) {
	lns, err := web.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer lns[0].Close()
	if _, err := web.Listen("127.0.0.1:0", lns[0].Addr().String()); err == nil {
		t.Fatal("Listen on a taken port succeeded")
	}
}
