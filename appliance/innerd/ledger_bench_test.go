package innerd_test

import (
	"context"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"sealgate/appliance/daemon/daemontest"
	"sealgate/appliance/innerd"
	"sealgate/inner/ledger/ledgertest"
	"sealgate/shared/account"
)

// benchLedgerRows is the ledger BenchmarkLedger reads: what a busy control
// centre files in decades.
const benchLedgerRows = 500_000

// BenchmarkLedger: a real sealgate-inner over HTTPS with a ledger of
// 500,000 exports. The count query alone (the whole ledger's, as the
// files' audit entry counts it), straight to PostgreSQL, is the baseline
// of each page, which counts no further than 10,000: the first page, a filtered page (an agency over
// three months), a page deep in the ledger by its cursor; then the whole
// ledger as .xlsx and as CSV, with the rows per second and the peak of
// the process's live Go heap above its level before (constant memory:
// rows are read as they come, and the xlsx stream writer spills them to a
// temporary file).
func BenchmarkLedger(b *testing.B) {
	ctx := context.Background()
	d, cfg, k := startConsole(b)
	pool, err := pgxpool.New(ctx, cfg.Database.URL)
	if err != nil {
		b.Fatal(err)
	}
	defer pool.Close()
	start := time.Now()
	if err := ledgertest.Seed(ctx, pool, daemonPII(b, k), benchLedgerRows, time.Now(), 10*365*24*time.Hour); err != nil {
		b.Fatal(err)
	}
	b.Logf("seeded %d exports in %.1f s", benchLedgerRows, time.Since(start).Seconds())
	svc := daemontest.Accounts(b, cfg.Database.URL, innerd.Accounts, &k.Secrets)
	u, _, err := svc.CreateUser(ctx, account.Actor{Name: "bench"}, account.NewUser{Username: "han.audit", Role: "auditor"})
	if err != nil {
		b.Fatal(err)
	}
	tok, err := svc.StartSession(ctx, u, account.StageOK, "bench", "bench")
	if err != nil {
		b.Fatal(err)
	}
	c := d.Client(b)
	c.SetSession(tok)
	// A cursor 2,000 pages in: the page's own next link, followed once.
	var deep string
	{
		var at time.Time
		var id int64
		pool.QueryRow(ctx, `SELECT requested_at, id FROM export ORDER BY requested_at DESC, id DESC OFFSET 100000 LIMIT 1`).Scan(&at, &id)
		code, body := c.Do(b, http.MethodGet, "/ledger?to="+at.In(kst).Format(time.DateOnly), nil, false)
		if code != http.StatusOK {
			b.Fatalf("ledger: %d", code)
		}
		deep = nextLink(b, body)
	}
	quarter := url.Values{"agency": {ledgertest.Agencies[0]}, "from": {time.Now().AddDate(0, -3, 0).Format(time.DateOnly)}}.Encode()
	var rows int
	pool.QueryRow(ctx, `SELECT count(*) FROM export`).Scan(&rows)
	b.Run("count-query", func(b *testing.B) {
		for b.Loop() {
			var n int
			if err := pool.QueryRow(ctx, `SELECT count(*) FROM export e LEFT JOIN outbox o ON o.id = e.outbox_id`).Scan(&n); err != nil || n != rows {
				b.Fatalf("count %d, %v", n, err)
			}
		}
	})
	for _, page := range []struct{ name, path string }{
		{"page-first", "/ledger"},
		{"page-agency-quarter", "/ledger?" + quarter},
		{"page-deep-cursor", deep},
	} {
		b.Run(page.name, func(b *testing.B) {
			for b.Loop() {
				if code, _ := c.Do(b, http.MethodGet, page.path, nil, false); code != http.StatusOK {
					b.Fatalf("%s: %d", page.path, code)
				}
			}
		})
	}
	for _, file := range []string{"/ledger.xlsx", "/ledger.csv"} {
		b.Run(file[1:], func(b *testing.B) {
			var peak, size int64
			for b.Loop() {
				p, n := heapPeak(func() int64 { return getBody(b, c, file) })
				if n < int64(rows)*100 {
					b.Fatalf("%s: %d bytes for %d rows", file, n, rows)
				}
				peak, size = max(peak, p), n
			}
			b.ReportMetric(float64(size)/1e6, "file-MB")
			b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(float64(peak)/(1<<20), "peak-live-heap-MiB")
		})
	}
}

// nextLink is the href of the page's next-page link.
func nextLink(b *testing.B, body string) string {
	b.Helper()
	m := regexp.MustCompile(`id="next" href="([^"]+)"`).FindStringSubmatch(body)
	if m == nil {
		b.Fatal("no next page link")
	}
	return html.UnescapeString(m[1])
}

// heapPeak runs fn and returns how far the live Go heap (what the last
// garbage collection kept) rose above its level before, sampled every
// 10 ms, and fn's result: memory held, not garbage not yet collected.
func heapPeak(fn func() int64) (int64, int64) {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	read := func() int64 { metrics.Read(sample); return int64(sample[0].Value.Uint64()) }
	base := read()
	var peak atomic.Int64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if h := read() - base; h > peak.Load() {
					peak.Store(h)
				}
			}
		}
	})
	n := fn()
	close(done)
	wg.Wait()
	return peak.Load(), n
}

// getBody downloads path whole, keeping none of it, and returns its size.
func getBody(b *testing.B, c *daemontest.Client, path string) int64 {
	b.Helper()
	resp := c.Stream(b, path)
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("%s: %s", path, resp.Status)
	}
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil {
		b.Fatalf("%s: %v", path, err)
	}
	return n
}
