package requester_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"sealgate/inner/export"
	"sealgate/inner/ledger"
	"sealgate/inner/requester"
	"sealgate/inner/requester/requestertest"
	"sealgate/inner/store"
	"sealgate/shared/audit"
	"sealgate/shared/pgcluster"
	"sealgate/shared/pgdb"
	"sealgate/shared/pgdb/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func TestMask(t *testing.T) {
	for in, want := range map[string]string{
		"김민수": "김*수", "경위 김민수": "경* 김*수", "John Doe": "J*** D**", "남궁민수": "남**수", "이영": "이*", "X": "*", "": "",
	} {
		if got := requester.Mask(in); got != want {
			t.Errorf("Mask(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestShown(t *testing.T) {
	for _, tc := range []struct{ role, name, phone string }{
		{"operator", "경위 김민수", "010-1234-5678"}, {"approver", "경위 김민수", "010-1234-5678"}, {"auditor", "경위 김민수", "010-1234-5678"},
		{"admin", "경* 김*수", ""}, {"importer", "", ""}, {"", "", ""},
	} {
		if n, p := requester.Shown(tc.role, "경위 김민수", "010-1234-5678"); n != tc.name || p != tc.phone {
			t.Errorf("%q sees %q, %q; want %q, %q", tc.role, n, p, tc.name, tc.phone)
		}
	}
}

// A database whose exports were filed before requesters were encrypted:
// migration 0010 moves their plaintext out of the export table, and
// SealLegacy, as the serving role at the daemon's start, seals every row,
// relabels the copies' ledger rows that named the officer and leaves no
// plaintext behind.
func TestSealLegacyRows(t *testing.T) {
	ctx := context.Background()
	all := store.Migrations()
	var before []pgdb.Migration
	for _, m := range all {
		if m.Schema != "inner" || m.Version < 10 {
			before = append(before, m)
		}
	}
	url := pgtest.NewDatabase(t, before)
	owner := pgtest.RolePool(t, url, pgcluster.OwnerRole)
	if _, err := owner.Exec(ctx, `
		INSERT INTO camera (name, location, registered_by) VALUES ('CAM-1', '역삼동', 'test');
		INSERT INTO footage (camera_id, file_name, path, size, sha256, container, codec, width, height, fps, frames, duration_s, imported_by, retain_until)
			SELECT id, 'a.mp4', '/a.mp4', 1, sha256('a'), 'mp4', 'h264', 1, 1, 1, 1, 10, 'test', now() + interval '1 day' FROM camera;
		INSERT INTO export (footage_id, reason_code, detail, requester_name, requester_agency, requester_phone, document_no, recipient, viewing_days,
			requested_by, requested_at)
			SELECT (SELECT min(id) FROM footage), 'theft', '절도', CASE WHEN i = 1 THEN 'John  Doe' ELSE '경위 김' || i END, '강남경찰서',
				CASE WHEN i % 2 = 0 THEN '010-5555-' || lpad(i::text, 4, '0') ELSE '' END, 'D-' || i, 'officer.kim', 7, 'operator.lee',
				timestamptz '2026-05-01 09:00+09'
			FROM generate_series(1, 2500) i;
		INSERT INTO ledger (appliance, requester, reason, issued_by, source_name, source_sha256)
			SELECT 1, requester_name || ', ' || requester_agency, reason_code || ': ' || detail || ' (document ' || document_no || ')', 'approver.park',
				'a.mp4', sha256('a') FROM export WHERE id <= 3;
		INSERT INTO ledger (appliance, requester, reason, issued_by, source_name, source_sha256)
			VALUES (1, 'John  Doe, 강남경찰서', 'a copy made with the CLI', 'cli', 'b.mp4', sha256('b'))`); err != nil {
		t.Fatal(err)
	}
	if err := pgdb.Setup(ctx, owner, all, "test", pgcluster.AppRole); err != nil {
		t.Fatal(err)
	}
	app := pgtest.RolePool(t, url, pgcluster.AppRole)
	var moved int
	if err := app.QueryRow(ctx, `SELECT count(*) FROM export_requester_legacy`).Scan(&moved); err != nil || moved != 2500 {
		t.Fatalf("migration 0010 moved %d rows aside (%v), want 2500", moved, err)
	}
	pii := requestertest.PII(t)
	n, err := requester.SealLegacy(ctx, app, pii)
	if err != nil || n != 2500 {
		t.Fatalf("sealed %d rows: %v", n, err)
	}
	if n, err := requester.SealLegacy(ctx, app, pii); err != nil || n != 0 {
		t.Fatalf("a second start sealed %d more: %v", n, err)
	}
	var left, unsealed, clear int
	if err := app.QueryRow(ctx, `SELECT (SELECT count(*) FROM export_requester_legacy),
		(SELECT count(*) FROM export WHERE requester_name_sealed IS NULL OR requester_name_index IS NULL),
		(SELECT count(*) FROM export e WHERE e::text LIKE '%김%' OR e::text LIKE '%Doe%' OR e::text LIKE '%010-5555%')`).Scan(&left, &unsealed, &clear); err != nil {
		t.Fatal(err)
	}
	if left != 0 || unsealed != 0 || clear != 0 {
		t.Fatalf("after sealing: %d plaintext rows left, %d rows unsealed, %d rows with a name or phone in clear", left, unsealed, clear)
	}
	rows, err := app.Query(ctx, `SELECT requester FROM ledger ORDER BY serial`)
	if err != nil {
		t.Fatal(err)
	}
	var labels []string
	for rows.Next() {
		var s string
		rows.Scan(&s)
		labels = append(labels, s)
	}
	slices.Sort(labels)
	if strings.Join(labels, "|") != "EX-2026-000001, 강남경찰서|EX-2026-000002, 강남경찰서|EX-2026-000003, 강남경찰서|John  Doe, 강남경찰서" {
		t.Errorf("the copies' ledger names %q (a CLI copy is the operator's own text and stays)", labels)
	}

	// The workflow and the ledger read them back; the filter finds by name.
	wf, err := export.New(app, audit.New(app, make([]byte, 32)), export.WorkflowConfig{FootageDir: filepath.Join(t.TempDir(), "f"),
		Retention: time.Hour, PII: pii})
	if err != nil {
		t.Fatal(err)
	}
	e, err := wf.Show(ctx, 2)
	if err != nil || e.RequesterName != "경위 김2" || e.Phone != "010-5555-0002" {
		t.Fatalf("export 2 reads %+v: %v", e, err)
	}
	l, err := ledger.New(app, nil, 1)
	if err != nil {
		t.Fatal(err)
	}
	l.WithPII(pii)
	p, err := l.Search(ctx, ledger.Filter{Requester: "john doe"}, "", 10)
	if err != nil || len(p.Records) != 1 || p.Records[0].ExportID != 1 || p.Records[0].RequesterName != "John  Doe" {
		t.Fatalf("by name: %+v, %v", p, err)
	}
}
