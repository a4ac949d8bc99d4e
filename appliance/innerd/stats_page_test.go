package innerd_test

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"sealgate/appliance/daemon/daemontest"
	"sealgate/appliance/innerd"
	"sealgate/inner/ledger/ledgertest"
	"sealgate/inner/stats/statstest"
	"sealgate/shared/account"
)

// TestStatisticsPages: an auditor opens the statistics of a half year in
// headless Chromium; the charts' numbers are the database's, counted here
// from its rows, in Korean and English; the monthly report of one month
// has its totals and every export of it, and prints on A4; an operator
// may see neither.
func TestStatisticsPages(t *testing.T) {
	ctx := context.Background()
	d, cfg, k := startConsole(t)
	pool, err := pgxpool.New(ctx, cfg.Database.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	seedStats(t, pool)

	svc := daemontest.Accounts(t, cfg.Database.URL, innerd.Accounts, &k.Secrets)
	_, pw, err := svc.CreateUser(ctx, account.Actor{Name: "test"}, account.NewUser{Username: "auditor.han", Role: "auditor"})
	if err != nil {
		t.Fatal(err)
	}
	op, _, err := svc.CreateUser(ctx, account.Actor{Name: "test"}, account.NewUser{Username: "kim.op", Role: "operator"})
	if err != nil {
		t.Fatal(err)
	}
	base := "https://" + d.Addrs.Web.String()
	b := daemontest.Browser(t)
	d.SignInFirstTime(t, b, "auditor.han", pw, "Hangang bridges 31 lights!")
	step, js := stepper(t, b), evaluator(t, b)

	from := time.Date(2026, 1, 1, 0, 0, 0, 0, kst)
	to := time.Date(2026, 7, 1, 0, 0, 0, 0, kst)
	bars := func(chart string) string {
		return js(`[...document.querySelectorAll('#` + chart + ` rect[data-value]')].map(r => r.dataset.key + '=' + r.dataset.value).join(',')`)
	}
	for _, lang := range []struct{ code, theft, others string }{{"en", "theft", "Requests by reason"}, {"ko", "절도", "사유별 요청"}} {
		step("the statistics of the half year in "+lang.code,
			chromedp.Navigate(base+"/statistics?from=2026-01-01&to=2026-06-30"),
			chromedp.WaitVisible(chromedp.ID("chart-months")))
		if got := js(`document.documentElement.lang`); got != lang.code {
			t.Fatalf("the page is in %s, want %s", got, lang.code)
		}
		if got, want := bars("chart-months"), monthsInDB(t, pool, from, to); got != want {
			t.Errorf("%s: months chart %s, database %s", lang.code, got, want)
		}
		if got, want := bars("chart-reasons"), groupedInDB(t, pool, "reason_code", from, to, reasonOrder); got != want {
			t.Errorf("%s: reasons chart %s, database %s", lang.code, got, want)
		}
		if got, want := bars("chart-agencies"), groupedInDB(t, pool, "requester_agency", from, to, nil); got != want {
			t.Errorf("%s: agencies chart %s, database %s", lang.code, got, want)
		}
		if got, want := js(`document.getElementById('total').textContent`), strconv.Itoa(countInDB(t, pool, from, to)); got != want {
			t.Errorf("%s: total %s, database %s", lang.code, got, want)
		}
		if got, want := js(`document.querySelector('#chart-outcomes rect[data-key="delivered"]').dataset.value`),
			strconv.Itoa(deliveredInDB(t, pool, from, to)); got != want {
			t.Errorf("%s: %s delivered in the chart, database %s", lang.code, got, want)
		}
		label := js(`document.querySelector('#chart-reasons rect[data-key="theft"]').dataset.label`)
		title := js(`document.querySelector('#chart-reasons title').textContent`)
		if label != lang.theft || title != lang.others {
			t.Errorf("%s: the reasons chart says %q, %q", lang.code, title, label)
		}
		// The chart escapes what users typed: the camera's name is text.
		if js(`String(document.querySelectorAll('#chart-cameras script').length)`) != "0" ||
			!strings.Contains(js(`document.getElementById('chart-cameras').textContent`), "<b>Gate</b>") {
			t.Errorf("%s: camera names not shown as typed", lang.code)
		}

		step("the monthly report of March in "+lang.code,
			chromedp.Navigate(base+"/statistics/monthly?month=2026-03"),
			chromedp.WaitVisible(chromedp.ID("month-exports")))
		march, april := time.Date(2026, 3, 1, 0, 0, 0, 0, kst), time.Date(2026, 4, 1, 0, 0, 0, 0, kst)
		if got, want := js(`document.getElementById('total').textContent`), strconv.Itoa(countInDB(t, pool, march, april)); got != want {
			t.Errorf("%s: March total %s, database %s", lang.code, got, want)
		}
		if got, want := js(`[...document.querySelectorAll('#month-exports tr[data-code]')].map(r => r.dataset.code).join(',')`),
			codesInDB(t, pool, march, april); got != want {
			t.Errorf("%s: March list %s, database %s", lang.code, got, want)
		}
		// Times are the appliance's, as its months are: March 1st, midnight.
		if got := js(`document.querySelector('#month-exports tr[data-code] td:nth-child(6)').textContent`); got != march.Format("2006-01-02 15:04:05 MST") {
			t.Errorf("%s: the first request of March at %q", lang.code, got)
		}
		if got, want := bars("chart-reasons"), groupedInDB(t, pool, "reason_code", march, april, reasonOrder); got != want {
			t.Errorf("%s: March reasons chart %s, database %s", lang.code, got, want)
		}
		org := js(`document.getElementById('report-org').textContent`)
		if org != "Sealgate 1" || // no site_name configured: the appliance's number
			js(`document.getElementById('printed').textContent`) == "" || js(`String(!!document.getElementById('print'))`) != "true" {
			t.Errorf("%s: report header %q", lang.code, org)
		}
		if lang.code == "ko" {
			checkA4(t, b)
		}
		if lang.code == "en" {
			step("switch to Korean", chromedp.Click(chromedp.CSS(`form.lang button`)), chromedp.WaitVisible(chromedp.ID("welcome")))
		}
	}

	// An operator files exports; the statistics are the ledger readers'.
	tok, err := svc.StartSession(ctx, op, account.StageOK, "test", "test")
	if err != nil {
		t.Fatal(err)
	}
	c := d.Client(t)
	c.SetSession(tok)
	for _, path := range []string{"/statistics", "/statistics/monthly?month=2026-03"} {
		if code, _ := c.Do(t, http.MethodGet, path, nil, false); code != http.StatusForbidden {
			t.Errorf("GET %s as an operator: %d, want 403", path, code)
		}
	}
	step("a bad period", chromedp.Navigate(base+"/statistics?from=2026-07-01&to=2026-01-01"), chromedp.WaitVisible(chromedp.ID("error")))
	if js(`String(!!document.getElementById('chart-months'))`) != "false" {
		t.Error("a bad period still shows charts")
	}

	// A month of more exports than a printout holds: the list stops at
	// 5,000, says so, and links the month's whole ledger file.
	if err := ledgertest.Seed(ctx, pool, svc.PII(), 5001, time.Date(2025, 11, 25, 0, 0, 0, 0, kst), 20*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	au, err := svc.ByName(ctx, "auditor.han")
	if err != nil {
		t.Fatal(err)
	}
	if tok, err = svc.StartSession(ctx, au, account.StageOK, "test", "test"); err != nil {
		t.Fatal(err)
	}
	c.SetSession(tok)
	code, body := c.Do(t, http.MethodGet, "/statistics/monthly?month=2025-11", nil, false)
	if code != http.StatusOK || strings.Count(body, "<tr data-code=") != 5000 || !strings.Contains(body, `id="list-limited"`) ||
		!strings.Contains(body, `href="/ledger.xlsx?from=2025-11-01&amp;to=2025-11-30"`) {
		t.Errorf("a month of 5,001 exports: %d, %d rows, limited note %v", code, strings.Count(body, "<tr data-code="), strings.Contains(body, "list-limited"))
	}
}

// checkA4 prints the report to PDF as Chromium's "Save as PDF" does with
// the page's own size: every page is A4 (595 × 842 points).
func checkA4(t *testing.T, b context.Context) {
	t.Helper()
	yes := true
	pdf, err := chromedp.Call(b, page.PrintToPDF, page.PrintToPDFParams{PreferCSSPageSize: &yes})
	if err != nil {
		t.Fatal(err)
	}
	boxes := regexp.MustCompile(`/MediaBox \[0 0 ([0-9.]+) ([0-9.]+)\]`).FindAllSubmatch(pdf.Data, -1)
	if len(boxes) == 0 {
		t.Fatalf("no page in the printed report (%d bytes)", len(pdf.Data))
	}
	for _, m := range boxes {
		w, _ := strconv.ParseFloat(string(m[1]), 64)
		h, _ := strconv.ParseFloat(string(m[2]), 64)
		if math.Abs(w-595.3) > 2 || math.Abs(h-841.9) > 2 {
			t.Errorf("a printed page is %.1f × %.1f points, not A4", w, h)
		}
	}
}

// deliveredInDB counts the delivered exports requested in [from, to):
// online ones whose outbox row is delivered, offline ones handed over.
func deliveredInDB(t *testing.T, pool *pgxpool.Pool, from, to time.Time) int {
	var online, offline int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM export WHERE delivery = 'online' AND requested_at >= $1 AND requested_at < $2
		AND outbox_id IN (SELECT id FROM outbox WHERE state = 'delivered')`, from, to).Scan(&online); err != nil {
		t.Fatal(err)
	}
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM export WHERE delivery = 'offline' AND state = 'delivered'
		AND requested_at >= $1 AND requested_at < $2`, from, to).Scan(&offline); err != nil {
		t.Fatal(err)
	}
	return online + offline
}

// seedStats seeds exports in the first half of 2026, in the appliance's
// zone, with one on each side just outside it.
func seedStats(t *testing.T, pool *pgxpool.Pool) {
	s := &statstest.Seeder{Pool: pool}
	cams := []int64{s.Camera(t, "역삼역 4번 출구", "서울 강남구 역삼동 823"), s.Camera(t, "<b>Gate</b><script>x()</script>", "North")}
	reasons := []string{"theft", "assault", "theft", "missing_person", "other", "theft", "traffic_accident"}
	agencies := []string{"강남경찰서", "서초경찰서", "강남경찰서", "송파경찰서"}
	day := func(m time.Month, d, h int) time.Time { return time.Date(2026, m, d, h, 0, 0, 0, kst) }
	times := []time.Time{day(1, 5, 9), day(1, 20, 14), day(3, 1, 0), day(3, 3, 8), day(3, 15, 9), day(3, 31, 23), day(5, 10, 9),
		day(6, 30, 23), day(7, 1, 0), day(1, 1, 0).Add(-time.Second), day(3, 20, 10)}
	for i, at := range times {
		e := statstest.Export{Camera: cams[i%2], Reason: reasons[i%len(reasons)], Agency: agencies[i%len(agencies)], State: "requested", Requested: at}
		switch i % 4 {
		case 1:
			e.State, e.Decided = "rejected", at.Add(time.Hour)
		case 2:
			e.State, e.Decided, e.Outbox, e.DeliveredAt = "queued", at.Add(2*time.Hour), "delivered", at.Add(30*time.Hour)
		case 3:
			e.State, e.Decided, e.Offline, e.HandedOver = "delivered", at.Add(3*time.Hour), true, at.Add(50*time.Hour)
		}
		s.Export(t, e)
	}
}

var reasonOrder = []string{"theft", "assault", "traffic_accident", "missing_person", "property_damage", "other"}

// requestedInDB are the request times of the exports, read plainly.
func requestedInDB(t *testing.T, pool *pgxpool.Pool) []time.Time {
	rows, err := pool.Query(context.Background(), `SELECT requested_at FROM export`)
	if err != nil {
		t.Fatal(err)
	}
	ts, err := pgx.CollectRows(rows, pgx.RowTo[time.Time])
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

func countInDB(t *testing.T, pool *pgxpool.Pool, from, to time.Time) int {
	n := 0
	for _, at := range requestedInDB(t, pool) {
		if !at.Before(from) && at.Before(to) {
			n++
		}
	}
	return n
}

// monthsInDB counts each month's requests in Go, in the local zone.
func monthsInDB(t *testing.T, pool *pgxpool.Pool, from, to time.Time) string {
	n := map[string]int{}
	for _, at := range requestedInDB(t, pool) {
		if !at.Before(from) && at.Before(to) {
			n[at.In(kst).Format("2006-01")]++
		}
	}
	var out []string
	for m := from; m.Before(to); m = m.AddDate(0, 1, 0) {
		out = append(out, fmt.Sprintf("%s=%d", m.Format("2006-01"), n[m.Format("2006-01")]))
	}
	return strings.Join(out, ",")
}

// groupedInDB counts the requests by column; in order's order (every key
// shown), else the most first.
func groupedInDB(t *testing.T, pool *pgxpool.Pool, column string, from, to time.Time, order []string) string {
	rows, err := pool.Query(context.Background(), `SELECT `+column+`, count(*) FROM export WHERE requested_at >= $1 AND requested_at < $2
		GROUP BY 1`, from, to)
	if err != nil {
		t.Fatal(err)
	}
	n := map[string]int{}
	for rows.Next() {
		var k string
		var c int
		if err := rows.Scan(&k, &c); err != nil {
			t.Fatal(err)
		}
		n[k] = c
	}
	if order == nil {
		for k := range n {
			order = append(order, k)
		}
		slices.SortFunc(order, func(a, b string) int {
			if n[a] != n[b] {
				return n[b] - n[a]
			}
			return strings.Compare(a, b)
		})
	}
	var out []string
	for _, k := range order {
		out = append(out, fmt.Sprintf("%s=%d", k, n[k]))
	}
	return strings.Join(out, ",")
}

// codesInDB are the export codes of the month, oldest request first.
func codesInDB(t *testing.T, pool *pgxpool.Pool, from, to time.Time) string {
	rows, err := pool.Query(context.Background(), `SELECT id, requested_at FROM export WHERE requested_at >= $1 AND requested_at < $2
		ORDER BY requested_at, id`, from, to)
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for rows.Next() {
		var id int64
		var at time.Time
		if err := rows.Scan(&id, &at); err != nil {
			t.Fatal(err)
		}
		codes = append(codes, fmt.Sprintf("EX-%d-%06d", at.Year(), id))
	}
	return strings.Join(codes, ",")
}
