package innerd_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/csv"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/xuri/excelize/v2"

	"sealgate/appliance/daemon/daemontest"
	"sealgate/appliance/innerd"
	"sealgate/inner/ledger/ledgertest"
	"sealgate/shared/account"
)

// The ledger's acceptance path, in Chromium as an auditor: filter by agency
// and period, read the count and the rows, download the .xlsx (opened with
// excelize: headers, rows, date cells) and the CSV (BOM, rows) through the
// page's own links, print it, open one export's record; every download is
// audited; an operator is refused.
func TestLedgerAcceptance(t *testing.T) {
	ctx := context.Background()
	d, cfg, k := startConsole(t)
	pool, err := pgxpool.New(ctx, cfg.Database.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	until := time.Date(2026, 12, 1, 0, 0, 0, 0, kst)
	if err := ledgertest.Seed(ctx, pool, daemonPII(t, k), 2000, until, 400*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	const agency, from, to = "강남경찰서", "2026-02-01", "2026-06-30"
	// What the database holds for that filter, by SQL of the test's own.
	var want []string
	rows, err := pool.Query(ctx, `SELECT 'EX-' || extract(year FROM requested_at AT TIME ZONE 'Asia/Seoul') || '-' || lpad(id::text, 6, '0')
		FROM export WHERE requester_agency = $1 AND requested_at >= '2026-02-01 00:00+09' AND requested_at < '2026-07-01 00:00+09'
		ORDER BY requested_at DESC, id DESC`, agency)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var code string
		rows.Scan(&code)
		want = append(want, code)
	}
	rows.Close()
	if len(want) < 60 {
		t.Fatalf("the seed gave only %d rows for the filter", len(want))
	}

	svc := daemontest.Accounts(t, cfg.Database.URL, innerd.Accounts, &k.Secrets)
	auditor, pw, err := svc.CreateUser(ctx, account.Actor{Name: "test"}, account.NewUser{Username: "han.audit", Role: "auditor"})
	if err != nil {
		t.Fatal(err)
	}
	base := "https://" + d.Addrs.Web.String()
	b := daemontest.Browser(t)
	d.SignInFirstTime(t, b, "han.audit", pw, "Changdeok palace 1405 gates!")
	step, js := stepper(t, b), evaluator(t, b)
	step("filter the ledger",
		chromedp.Navigate(base+"/ledger"),
		chromedp.WaitVisible(chromedp.ID("ledger-filter")),
		// The unfiltered page's count goes, so the count waited for is the filtered page's.
		chromedp.Evaluate[chromedp.Void](`document.getElementById('from').value = '`+from+`'; document.getElementById('to').value = '`+to+`';
			document.getElementById('count').remove()`),
		chromedp.SendKeys(chromedp.ID("agency"), agency),
		chromedp.Click(chromedp.ID("apply")),
		chromedp.WaitVisible(chromedp.ID("count")),
	)
	if got := js(`document.getElementById('count').textContent`); got != strconv.Itoa(len(want))+" exports" {
		t.Fatalf("count %q, want %d exports (the browser asks for English)", got, len(want))
	}
	// The first page, then the next by its cursor link.
	var paged []string
	for page := 0; ; page++ {
		codes := js(`[...document.querySelectorAll('#ledger tr[data-export] td:first-child a')].map(a => a.textContent).join(',')`)
		agencies := js(`[...document.querySelectorAll('#ledger td[data-agency] small')].map(s => s.textContent.split(' · ')[0]).join(',')`)
		for _, a := range strings.Split(agencies, ",") {
			if a != agency {
				t.Fatalf("page %d shows a row of %q", page, a)
			}
		}
		paged = append(paged, strings.Split(codes, ",")...)
		if js(`document.getElementById('next') ? 'more' : ''`) == "" {
			break
		}
		step("next page", chromedp.Click(chromedp.ID("next")), chromedp.WaitVisible(chromedp.ID("count")))
	}
	if !slices.Equal(paged, want) {
		t.Fatalf("paged %d rows, want %d: %v…", len(paged), len(want), paged[:min(5, len(paged))])
	}

	// The files, fetched by the page's own links (the session's cookie).
	fetch := func(id string) []byte {
		t.Helper()
		step("back to the first page", chromedp.Navigate(base+"/ledger?"+url.Values{"agency": {agency}, "from": {from}, "to": {to}}.Encode()),
			chromedp.WaitVisible(chromedp.ID(id)))
		s, err := chromedp.Run(b, chromedp.Evaluate[string](`fetch(document.getElementById('`+id+`').href).then(r => r.ok ? r.arrayBuffer() : Promise.reject(r.status))
			.then(b => { let s = ''; new Uint8Array(b).forEach(c => s += String.fromCharCode(c)); return btoa(s); })`, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("download %s: %v", id, err)
		}
		raw, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	x, err := excelize.OpenReader(bytes.NewReader(fetch("xlsx")))
	if err != nil {
		t.Fatalf("the xlsx does not open: %v", err)
	}
	sheet := x.GetSheetName(0)
	all, err := x.GetRows(sheet)
	if err != nil {
		t.Fatal(err)
	}
	header := all[0]
	col := func(name string) int {
		i := slices.Index(header, name)
		if i < 0 {
			t.Fatalf("no column %q in %q", name, header)
		}
		return i
	}
	if sheet != "Export ledger" || header[0] != "Export code" || len(all) != len(want)+1 {
		t.Fatalf("xlsx: sheet %q, header %q, %d rows (want %d + header)", sheet, header, len(all), len(want))
	}
	codeCol, agencyCol, payloadCol, requestedCol := col("Export code"), col("Agency"), col("Watermark"), col("Filed")
	for i, r := range all[1:] {
		if r[codeCol] != want[i] || r[agencyCol] != agency {
			t.Fatalf("xlsx row %d: %q", i+2, r)
		}
		if i == 0 && r[payloadCol] != "" {
			t.Fatalf("the seed's exports carry no watermark, row 2 says %q", r[payloadCol])
		}
	}
	// A filing time is a date cell (a number with a date format) that reads
	// back as the time in Korea.
	cell, _ := excelize.CoordinatesToCellName(requestedCol+1, 2)
	if typ, _ := x.GetCellType(sheet, cell); typ != excelize.CellTypeUnset && typ != excelize.CellTypeNumber && typ != excelize.CellTypeDate {
		t.Fatalf("%s is a %v cell, not a date", cell, typ)
	}
	raw, err := x.GetCellValue(sheet, cell, excelize.Options{RawCellValue: true})
	if err != nil {
		t.Fatal(err)
	}
	serial, err := strconv.ParseFloat(raw, 64)
	if err != nil {
		t.Fatalf("%s holds %q, not an Excel date", cell, raw)
	}
	got, _ := excelize.ExcelDateToTime(serial, false)
	var first time.Time
	pool.QueryRow(ctx, `SELECT requested_at FROM export WHERE id = $1`, strings.TrimLeft(want[0][8:], "0")).Scan(&first)
	if k := first.In(kst); got.Format(time.DateTime) != k.Format(time.DateTime) {
		t.Fatalf("%s reads %v, want %v", cell, got, k)
	}
	if panes, err := x.GetPanes(sheet); err != nil || !panes.Freeze || panes.YSplit != 1 {
		t.Fatalf("the header row is not frozen: %+v %v", panes, err)
	}

	csvRaw := fetch("csv")
	if !bytes.HasPrefix(csvRaw, []byte("\ufeff")) {
		t.Fatalf("the CSV has no BOM: %q", csvRaw[:min(16, len(csvRaw))])
	}
	recs, err := csv.NewReader(bytes.NewReader(csvRaw[3:])).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(want)+1 || !slices.Equal(recs[0], header) {
		t.Fatalf("csv: %d rows, header %q", len(recs), recs[0])
	}
	for i, r := range recs[1:] {
		if r[codeCol] != want[i] || r[agencyCol] != agency || r[requestedCol] == "" {
			t.Fatalf("csv row %d: %q", i+2, r)
		}
	}

	step("print", chromedp.Click(chromedp.ID("print")), chromedp.WaitVisible(chromedp.ID("site")))
	if s := js(`document.getElementById('site').textContent`); s != "Sealgate 1" {
		t.Fatalf("printout's site %q", s)
	}
	if s := js(`document.getElementById('filter').textContent`); !strings.Contains(s, agency) || !strings.Contains(s, from) {
		t.Fatalf("printout's filter %q", s)
	}
	if n := js(`String(document.querySelectorAll('#ledger tr[data-export]').length)`); n != strconv.Itoa(len(want)) {
		t.Fatalf("the printout has %s rows, want %d", n, len(want))
	}
	step("open a record", chromedp.Click(chromedp.CSS(`#ledger tr[data-export] a`)), chromedp.WaitVisible(chromedp.ID("record")))
	if s := js(`document.getElementById('code').textContent`); s != want[0] {
		t.Fatalf("record %q, want %q", s, want[0])
	}

	var downloads, prints int
	pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE action = 'ledger.download' AND actor = 'han.audit'),
		count(*) FILTER (WHERE action = 'ledger.print') FROM audit_log`).Scan(&downloads, &prints)
	if downloads != 2 || prints != 1 {
		t.Fatalf("audited %d downloads and %d printouts, want 2 and 1", downloads, prints)
	}

	// Korean headers for a Korean session (the default); an operator may
	// not read the ledger.
	session := func(u *account.User) *daemontest.Client {
		tok, err := svc.StartSession(ctx, u, account.StageOK, "test", "test")
		if err != nil {
			t.Fatal(err)
		}
		c := d.Client(t)
		c.SetSession(tok)
		return c
	}
	ko := session(auditor)
	if code, body := ko.Do(t, http.MethodGet, "/ledger.csv?agency=nobody", nil, false); code != http.StatusOK ||
		!strings.HasPrefix(body, "\ufeff반출 코드,워터마크,상태,") || strings.Count(body, "\n") != 1 {
		t.Fatalf("Korean CSV of no rows: %d %q", code, body)
	}
	if code, _ := ko.Do(t, http.MethodGet, "/ledger?from=yesterday", nil, false); code != http.StatusBadRequest {
		t.Fatalf("a bad date: %d", code)
	}
	operator, _, err := svc.CreateUser(ctx, account.Actor{Name: "test"}, account.NewUser{Username: "lee.op", Role: "operator"})
	if err != nil {
		t.Fatal(err)
	}
	op := session(operator)
	for _, path := range []string{"/ledger", "/ledger.csv", "/ledger.xlsx", "/ledger/print", "/ledger/1"} {
		if code, _ := op.Do(t, http.MethodGet, path, nil, false); code != http.StatusForbidden {
			t.Errorf("an operator's GET %s: %d, want 403", path, code)
		}
	}
}
