package innerd_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/xuri/excelize/v2"

	"sealgate/appliance/daemon/daemontest"
	"sealgate/appliance/innerd"
	"sealgate/inner/ledger/ledgertest"
	"sealgate/inner/requester"
	"sealgate/shared/account"
	"sealgate/shared/keys"
)

// daemonPII is the personal-data cipher of the daemon whose keys are k.
func daemonPII(t testing.TB, k *keys.Inner) *account.PII {
	t.Helper()
	p, err := account.NewPII(k.Secrets.PII)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// The requester's name and phone, over HTTP, by role: the export page,
// the ledger's page, record, printout and files show the auditor (and the
// operators and approvers on the export page) the name and the phone; the
// admin sees the name masked and no phone, and cannot find a row by name.
func TestRequesterShownByRole(t *testing.T) {
	ctx := context.Background()
	d, cfg, k := startConsole(t)
	pool, err := pgxpool.New(ctx, cfg.Database.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if err := ledgertest.Seed(ctx, pool, daemonPII(t, k), 40, time.Date(2026, 12, 1, 0, 0, 0, 0, kst), 30*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	var id int64
	var doc string
	if err := pool.QueryRow(ctx, `SELECT id, document_no FROM export ORDER BY id LIMIT 1`).Scan(&id, &doc); err != nil {
		t.Fatal(err)
	}
	var i int
	fmt.Sscanf(doc[strings.LastIndexByte(doc, '-')+1:], "%d", &i)
	name, phone := ledgertest.RequesterName(i), fmt.Sprintf("010-1234-%04d", id%10000)
	masked := requester.Mask(name)
	svc := daemontest.Accounts(t, cfg.Database.URL, innerd.Accounts, &k.Secrets)
	clients := map[string]*daemontest.Client{}
	client := func(role string) *daemontest.Client {
		t.Helper()
		if c := clients[role]; c != nil {
			return c
		}
		u, _, err := svc.CreateUser(ctx, account.Actor{Name: "test"}, account.NewUser{Username: role + ".kim", Role: role})
		if err != nil {
			t.Fatal(err)
		}
		tok, err := svc.StartSession(ctx, u, account.StageOK, "test", "test")
		if err != nil {
			t.Fatal(err)
		}
		c := d.Client(t)
		c.SetSession(tok)
		clients[role] = c
		return c
	}
	get := func(c *daemontest.Client, path string) string {
		t.Helper()
		code, body := c.Do(t, http.MethodGet, path, nil, false)
		if code != http.StatusOK {
			t.Fatalf("GET %s: %d\n%.400s", path, code, body)
		}
		return body
	}
	xlsxNames := func(c *daemontest.Client, query string) []string {
		t.Helper()
		x, err := excelize.OpenReader(bytes.NewReader([]byte(get(c, "/ledger.xlsx?"+query))))
		if err != nil {
			t.Fatal(err)
		}
		rows, err := x.GetRows(x.GetSheetName(0))
		if err != nil {
			t.Fatal(err)
		}
		col := slices.Index(rows[0], "요청자") // the client asks for no language: Korean
		if col < 0 {
			t.Fatalf("no requester column in %v", rows[0])
		}
		var names []string
		for _, r := range rows[1:] {
			names = append(names, r[col])
		}
		return names
	}
	byDoc := url.Values{"requester": {doc}}.Encode()
	byName := url.Values{"requester": {"  " + strings.ToUpper(name) + " "}}.Encode()

	for _, role := range []string{"operator", "approver", "auditor"} {
		body := get(client(role), fmt.Sprintf("/exports/%d", id))
		if !strings.Contains(body, name) || !strings.Contains(body, phone) {
			t.Errorf("%s: the export page lacks %q or %q", role, name, phone)
		}
	}
	aud := client("auditor")
	if body := get(aud, fmt.Sprintf("/ledger/%d", id)); !strings.Contains(body, name) || !strings.Contains(body, phone) {
		t.Errorf("auditor: the ledger record lacks the name or the phone")
	}
	for _, q := range []string{byDoc, byName} {
		if body := get(aud, "/ledger?"+q); !strings.Contains(body, fmt.Sprintf(`data-export="%d"`, id)) || !strings.Contains(body, name) {
			t.Errorf("auditor: /ledger?%s does not list export %d by name", q, id)
		}
	}
	if body := get(aud, "/ledger/print?"+byName); !strings.Contains(body, name) {
		t.Error("auditor: the printout lacks the name")
	}
	if body := get(aud, "/ledger.csv?"+byName); !strings.Contains(body, name) || strings.Contains(body, phone) {
		t.Error("auditor: the CSV lacks the name, or carries the phone")
	}
	if names := xlsxNames(aud, byDoc); !slices.Contains(names, name) {
		t.Errorf("auditor: the xlsx names %v", names)
	}

	adm := client("admin")
	pages := map[string]string{
		"export page":   get(adm, fmt.Sprintf("/exports/%d", id)),
		"ledger record": get(adm, fmt.Sprintf("/ledger/%d", id)),
		"ledger page":   get(adm, "/ledger?"+byDoc),
		"printout":      get(adm, "/ledger/print?"+byDoc),
		"CSV":           get(adm, "/ledger.csv?"+byDoc),
	}
	for what, body := range pages {
		if strings.Contains(body, name) || strings.Contains(body, phone) || !strings.Contains(body, masked) {
			t.Errorf("admin: the %s shows the name or the phone, or not %q", what, masked)
		}
	}
	if names := xlsxNames(adm, byDoc); len(names) == 0 || slices.Contains(names, name) || !slices.Contains(names, masked) {
		t.Errorf("admin: the xlsx names %v", names)
	}
	// A match by name would tell the admin the name.
	if body := get(adm, "/ledger?"+byName); strings.Contains(body, fmt.Sprintf(`data-export="%d"`, id)) {
		t.Error("admin: found an export by its requester's name")
	}
}
