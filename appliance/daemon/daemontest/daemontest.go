// Package daemontest runs a real Sealgate daemon in a test: a temporary data
// directory, ports chosen by the kernel, the private PostgreSQL cluster, and
// HTTPS/metrics clients pointed at it.
package daemontest

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"sealgate/appliance/daemon"
)

// Daemon is a daemon running in the test process.
type Daemon struct {
	Addrs daemon.Addrs
	stop  context.CancelFunc
	done  chan error
}

// DataDir returns a temporary directory the private database's user can
// traverse (t.TempDir is 0700, which postgres, run unprivileged under root,
// cannot enter).
func DataDir(t testing.TB) string {
	t.Helper()
	d, err := os.MkdirTemp("", "sgd")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(d, 0o711); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// Start runs serve in the background and waits until it has bound its
// listeners and opened its database.
func Start(t testing.TB, serve func(ctx context.Context, started func(daemon.Addrs)) error) *Daemon {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	d := &Daemon{stop: cancel, done: make(chan error, 1)}
	ready := make(chan daemon.Addrs, 1)
	go func() { d.done <- serve(ctx, func(a daemon.Addrs) { ready <- a }) }()
	select {
	case d.Addrs = <-ready:
	case err := <-d.done:
		cancel()
		t.Fatalf("daemon exited during start-up: %v", err)
	case <-time.After(90 * time.Second):
		cancel()
		t.Fatal("daemon did not start within 90 s")
	}
	t.Cleanup(func() { d.Stop(t) })
	return d
}

// Stop cancels the daemon's context (as SIGTERM does) and waits for it to
// return, failing the test if it takes longer than limit or returns an error.
func (d *Daemon) Stop(t testing.TB) {
	t.Helper()
	if d.stop == nil {
		return
	}
	d.stop()
	d.stop = nil
	select {
	case err := <-d.done:
		if err != nil {
			t.Errorf("daemon returned %v on shutdown", err)
		}
	case <-time.After(45 * time.Second):
		t.Fatal("daemon did not shut down within 45 s")
	}
}

// Get fetches path from the HTTPS web listener, checking that the server
// presents the certificate whose fingerprint it announced.
func (d *Daemon) Get(t testing.TB, path string) (int, http.Header, string) {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{
		InsecureSkipVerify: true, // self-signed: pinned below instead
		VerifyConnection: func(cs tls.ConnectionState) error {
			sum := sha256.Sum256(cs.PeerCertificates[0].Raw)
			if got := "sha256:" + hex.EncodeToString(sum[:]); got != d.Addrs.CertFingerprint {
				t.Errorf("server certificate %s, announced %s", got, d.Addrs.CertFingerprint)
			}
			return nil
		},
	}}}
	return get(t, client, "https://"+d.Addrs.Web.String()+path)
}

// Metrics fetches /metrics from the metrics listener.
func (d *Daemon) Metrics(t testing.TB) string {
	t.Helper()
	code, _, body := get(t, &http.Client{Timeout: 10 * time.Second}, "http://"+d.Addrs.Metrics.String()+"/metrics")
	if code != http.StatusOK {
		t.Fatalf("GET /metrics: %d", code)
	}
	return body
}

func get(t testing.TB, c *http.Client, url string) (int, http.Header, string) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp.StatusCode, resp.Header, string(b)
}

// CheckEndpoints asserts what every daemon serves: /healthz and /readyz
// answering 200 with strict security headers, and /metrics with the Go,
// process and build collectors labelled with the daemon's name.
func (d *Daemon) CheckEndpoints(t testing.TB, name string) {
	t.Helper()
	for _, path := range []string{"/healthz", "/readyz"} {
		code, h, body := d.Get(t, path)
		if code != http.StatusOK {
			t.Errorf("GET %s: %d %s", path, code, body)
		}
		if !strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") || h.Get("Strict-Transport-Security") == "" {
			t.Errorf("GET %s: security headers missing: %v", path, h)
		}
	}
	m := d.Metrics(t)
	for _, want := range []string{`sealgate_build_info{daemon="` + name + `"`, "go_goroutines", "process_resident_memory_bytes", "go_build_info"} {
		if !strings.Contains(m, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
