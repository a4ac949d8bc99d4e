package outerd_test

import (
	"bufio"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"sealgate/appliance/daemon"
	"sealgate/appliance/daemon/daemontest"
	"sealgate/appliance/outerd"
	"sealgate/shared/config"
)

// benchDaemon, set in the environment, makes this test binary the outer
// daemon itself: BenchmarkDownload runs the daemon in a process of its
// own, so that the peak RSS it reports is the daemon's alone, not the
// clients' beside it.
const benchDaemon = "SEALGATE_BENCH_OUTERD"

func init() {
	if os.Getenv(benchDaemon) == "" {
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := outerd.Main(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Environ())
	stop()
	os.Exit(code)
}

// BenchmarkDownload: officers download a 1 GiB package from a real outerd
// over HTTPS on loopback, one alone (the baseline) and 100 at once. Each
// reports the throughput of all downloads together (MB/s) and the
// daemon's peak resident memory during them (its VmHWM, reset before each
// run), beside its resident memory at rest: memory per download is
// constant, so the hundred should cost about what one does.
func BenchmarkDownload(b *testing.B) {
	size := int64(1 << 30)
	if s := os.Getenv("SEALGATE_BENCH_DOWNLOAD_MB"); s != "" { // a quicker look
		mb, err := strconv.Atoi(s)
		if err != nil {
			b.Fatalf("SEALGATE_BENCH_DOWNLOAD_MB: %v", err)
		}
		size = int64(mb) << 20
	}
	cfg, path, ik, ok := portalConfig(b)
	d, pid := execDaemon(b, path, cfg)
	p := attach(b, d, cfg, ik, ok)
	id := p.arrive(b, manifest("SG-2026-000999", "officer.bench", "정문 CCTV-01", "세종대로 110", time.Now().Add(-time.Hour), 7*24*time.Hour), size)
	fi, err := os.Stat(p.dir.Path(sum(b, id)))
	if err != nil {
		b.Fatal(err)
	}
	officer := p.user(b, "officer.bench", "officer")
	b.Cleanup(officer.http.CloseIdleConnections)
	for _, n := range []int{1, 100} {
		b.Run(fmt.Sprintf("concurrent=%d", n), func(b *testing.B) {
			rest := vm(b, pid, "VmRSS")
			resetPeak(b, pid)
			b.SetBytes(fi.Size() * int64(n))
			for b.Loop() {
				var wg sync.WaitGroup
				errs := make(chan error, n)
				for range n {
					wg.Go(func() { errs <- download(officer, "/packages/"+id+"/package", fi.Size()) })
				}
				wg.Wait()
				close(errs)
				for err := range errs {
					if err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(vm(b, pid, "VmHWM"))/(1<<20), "peak-RSS-MiB")
			b.ReportMetric(float64(rest)/(1<<20), "rest-RSS-MiB")
		})
	}
}

// download fetches path whole and checks its length, reading as a browser
// does and keeping none of it.
func download(c *client, path string, size int64) error {
	req, _ := http.NewRequest(http.MethodGet, c.base+path, nil)
	req.AddCookie(&http.Cookie{Name: "__Host-sealgate-session", Value: c.token})
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK || n != size {
		return fmt.Errorf("download: %d, %d of %d bytes, %v", resp.StatusCode, n, size, err)
	}
	return nil
}

var serving = regexp.MustCompile(`serving https://(\S+)/ `)

// execDaemon runs `sealgate-outer serve` as this test binary in a process
// of its own, on cfg's database, and returns it once it serves.
func execDaemon(b *testing.B, path string, cfg *config.Outer) (*daemontest.Daemon, int) {
	b.Helper()
	cmd := exec.Command(os.Args[0], "serve", "--config", path)
	cmd.Env = append(os.Environ(), benchDaemon+"=1", config.OuterEnvPrefix+"DATABASE_URL="+cfg.Database.URL)
	cmd.Stderr = io.Discard
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	b.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	addr := make(chan string, 1)
	go func() {
		defer close(done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := serving.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
		}
		cmd.Wait()
	}()
	select {
	case a := <-addr:
		tcp, err := net.ResolveTCPAddr("tcp", a)
		if err != nil {
			b.Fatal(err)
		}
		return &daemontest.Daemon{Addrs: daemon.Addrs{Web: tcp}}, cmd.Process.Pid
	case <-done:
		b.Fatal("the outer daemon exited during start-up")
	case <-time.After(90 * time.Second):
		b.Fatal("the outer daemon did not start within 90 s")
	}
	return nil, 0
}

// vm reads a size field (VmRSS, VmHWM) of process pid, in bytes.
func vm(b *testing.B, pid int, field string) int64 {
	b.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return kb << 10
		}
	}
	b.Fatalf("/proc/%d/status has no %s", pid, field)
	return 0
}

// resetPeak sets process pid's VmHWM back to its RSS now (proc(5), clear_refs).
func resetPeak(b *testing.B, pid int) {
	b.Helper()
	if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0); err != nil {
		b.Fatalf("reset the daemon's peak RSS: %v", err)
	}
}

// sum is the package id as a store key.
func sum(b *testing.B, id string) (s [32]byte) {
	b.Helper()
	raw, err := hex.DecodeString(id)
	if err != nil || len(raw) != len(s) {
		b.Fatalf("package id %q: %v", id, err)
	}
	copy(s[:], raw)
	return s
}
