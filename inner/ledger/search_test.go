package ledger_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"sealgate/inner/ledger"
	"sealgate/inner/ledger/ledgertest"
	"sealgate/inner/requester/requestertest"
	"sealgate/inner/store"
	"sealgate/shared/audit"
	"sealgate/shared/pgdb/pgtest"
)

var kst = time.FixedZone("KST", 9*3600)

// seeded is a ledger of n exports filed over the 700 days before
// 2026-12-01 KST.
func seeded(t *testing.T, n int) (*ledger.Ledger, *pgxpool.Pool) {
	t.Helper()
	key := make([]byte, 32)
	rand.Read(key)
	pool := pgtest.NewPool(t, store.Migrations())
	l, err := ledger.New(pool, audit.New(pool, key), 3)
	if err != nil {
		t.Fatal(err)
	}
	pii := requestertest.PII(t)
	l.WithPII(pii)
	if err := ledgertest.Seed(context.Background(), pool, pii, n, time.Date(2026, 12, 1, 0, 0, 0, 0, kst), 700*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	return l, pool
}

// plain is one export as the test reads it, with SQL of its own.
type plain struct {
	id                    int64
	at                    time.Time
	agency, reason, state string
	camera, location, doc string
	name                  string // as Seed names the requester of the document
	decided               *time.Time
}

func readAll(t *testing.T, pool *pgxpool.Pool) []plain {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT e.id, e.requested_at, e.requester_agency, e.reason_code, e.state,
		coalesce(o.state, ''), c.name, c.location, e.document_no, e.decided_at
		FROM export e, footage f, camera c, outbox o WHERE f.id = e.footage_id AND c.id = f.camera_id AND o.id = e.outbox_id
		UNION ALL
		SELECT e.id, e.requested_at, e.requester_agency, e.reason_code, e.state, '', c.name, c.location, e.document_no, e.decided_at
		FROM export e, footage f, camera c WHERE f.id = e.footage_id AND c.id = f.camera_id AND e.outbox_id IS NULL`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var all []plain
	for rows.Next() {
		var p plain
		var outbox string
		if err := rows.Scan(&p.id, &p.at, &p.agency, &p.reason, &p.state, &outbox, &p.camera, &p.location, &p.doc, &p.decided); err != nil {
			t.Fatal(err)
		}
		i, err := strconv.Atoi(p.doc[strings.LastIndexByte(p.doc, '-')+1:])
		if err != nil {
			t.Fatal(err)
		}
		p.name = ledgertest.RequesterName(i)
		if p.state == "queued" && outbox == "delivered" {
			p.state = "delivered"
		}
		all = append(all, p)
	}
	return all
}

// ids pages through the whole search, limit rows at a time.
func ids(t *testing.T, l *ledger.Ledger, f ledger.Filter, limit int) []int64 {
	t.Helper()
	var got []int64
	cursor := ""
	for pages := 0; ; pages++ {
		p, err := l.Search(context.Background(), f, cursor, limit)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Records) > limit || (p.Next != "" && len(p.Records) != limit) {
			t.Fatalf("page %d: %d rows of %d, next %q", pages, len(p.Records), limit, p.Next)
		}
		for _, r := range p.Records {
			got = append(got, r.ExportID)
		}
		if p.Next == "" {
			return got
		}
		cursor = p.Next
	}
}

// Every filter, alone and together, in every order, pages through exactly
// the rows the test finds by reading the whole table itself; Count agrees
// and Each streams the same rows.
func TestSearchFilters(t *testing.T) {
	ctx := context.Background()
	l, pool := seeded(t, 900)
	all := readAll(t, pool)
	if len(all) != 900 {
		t.Fatalf("seeded %d rows", len(all))
	}
	from, to := time.Date(2026, 3, 1, 0, 0, 0, 0, kst), time.Date(2026, 6, 1, 0, 0, 0, 0, kst)
	for _, tc := range []struct {
		name string
		f    ledger.Filter
		keep func(plain) bool
	}{
		{"everything", ledger.Filter{}, func(plain) bool { return true }},
		{"agency, whatever its case", ledger.Filter{Agency: " mapo POLICE station "}, func(p plain) bool { return p.agency == "Mapo Police Station" }},
		{"period", ledger.Filter{From: from, To: to}, func(p plain) bool { return !p.at.Before(from) && p.at.Before(to) }},
		{"camera by name", ledger.Filter{Camera: "cam-007"}, func(p plain) bool { return p.camera == "CAM-007" }},
		{"camera by location", ledger.Filter{Camera: "구역 3"}, func(p plain) bool { return strings.Contains(p.location, "구역 3") }},
		{"state as shown", ledger.Filter{State: "delivered"}, func(p plain) bool { return p.state == "delivered" }},
		{"reason", ledger.Filter{Reason: "missing_person"}, func(p plain) bool { return p.reason == "missing_person" }},
		// The name is sealed: found by its blind index, exactly, case and spacing folded.
		{"requester by name", ledger.Filter{Requester: " 경위  김9 "}, func(p plain) bool { return p.name == "경위 김9" }},
		{"requester by part of a name: nothing", ledger.Filter{Requester: "김9"}, func(plain) bool { return false }},
		{"document by part", ledger.Filter{Requester: "2026-12"}, func(p plain) bool { return strings.Contains(p.doc, "2026-12") }},
		{"document only, for who sees names masked", ledger.Filter{Requester: "경위 김9", DocumentOnly: true}, func(plain) bool { return false }},
		{"agency and period", ledger.Filter{Agency: "강남경찰서", From: from, To: to},
			func(p plain) bool { return p.agency == "강남경찰서" && !p.at.Before(from) && p.at.Before(to) }},
		{"nothing matches", ledger.Filter{Agency: "부산경찰서"}, func(plain) bool { return false }},
	} {
		for _, sort := range ledger.Sorts {
			t.Run(tc.name+"/"+sort, func(t *testing.T) {
				var want []plain
				for _, p := range all {
					if tc.keep(p) && (p.decided != nil || !strings.HasPrefix(sort, "decided")) {
						want = append(want, p)
					}
				}
				key := func(p plain) time.Time {
					if strings.HasPrefix(sort, "decided") {
						return *p.decided
					}
					return p.at
				}
				slices.SortFunc(want, func(a, b plain) int {
					if c := key(a).Compare(key(b)); c != 0 {
						return c
					}
					return int(a.id - b.id)
				})
				if sort == ledger.SortNewest || sort == ledger.SortDecided {
					slices.Reverse(want)
				}
				wantIDs := make([]int64, len(want))
				for i, p := range want {
					wantIDs[i] = p.id
				}
				f := tc.f
				f.Sort = sort
				if got := ids(t, l, f, 37); !slices.Equal(got, wantIDs) {
					t.Fatalf("paged %d rows, want %d:\n got %v\nwant %v", len(got), len(wantIDs), head(got), head(wantIDs))
				}
				n, more, err := l.Count(ctx, f, 0)
				if err != nil || n != len(wantIDs) || more {
					t.Fatalf("Count = %d, %v, %v; want %d", n, more, err, len(wantIDs))
				}
				// Counting up to a bound stops there, and says so.
				for _, upTo := range []int{len(wantIDs) - 1, len(wantIDs), len(wantIDs) + 1} {
					if upTo < 1 {
						continue
					}
					n, more, err := l.Count(ctx, f, upTo)
					if err != nil || n != min(upTo, len(wantIDs)) || more != (len(wantIDs) > upTo) {
						t.Fatalf("Count up to %d = %d, %v, %v; %d match", upTo, n, more, err, len(wantIDs))
					}
				}
				var streamed []int64
				if err := l.Each(ctx, f, func(r *ledger.Record) error { streamed = append(streamed, r.ExportID); return nil }); err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(streamed, wantIDs) {
					t.Fatalf("Each gave %d rows, want %d", len(streamed), len(wantIDs))
				}
			})
		}
	}
}

func head(s []int64) []int64 { return s[:min(len(s), 12)] }

// A cursor names its row, not an offset: exports filed while someone
// reads the ledger do not shift the next page. A cursor made for another
// order, or made up, is refused.
func TestSearchCursorsAreStable(t *testing.T) {
	ctx := context.Background()
	l, pool := seeded(t, 120)
	first, err := l.Search(ctx, ledger.Filter{}, "", 50)
	if err != nil || first.Next == "" {
		t.Fatalf("first page: %v, next %q", err, first.Next)
	}
	before, err := l.Search(ctx, ledger.Filter{}, first.Next, 50)
	if err != nil {
		t.Fatal(err)
	}
	// Ten newer requests arrive.
	if _, err := pool.Exec(ctx, `INSERT INTO export (footage_id, reason_code, detail, requester_agency, document_no,
		recipient, viewing_days, requested_by) SELECT (SELECT min(id) FROM footage), 'theft', '새 요청', '강남경찰서', 'D-' || i,
		'officer.choi', 7, 'operator.lee' FROM generate_series(1, 10) i`); err != nil {
		t.Fatal(err)
	}
	after, err := l.Search(ctx, ledger.Filter{}, first.Next, 50)
	if err != nil {
		t.Fatal(err)
	}
	if len(after.Records) != 50 || after.Records[0].ExportID != before.Records[0].ExportID || after.Next != before.Next {
		t.Fatalf("the second page moved: %d rows from %d (was %d)", len(after.Records), after.Records[0].ExportID, before.Records[0].ExportID)
	}
	if n, _, _ := l.Count(ctx, ledger.Filter{}, 0); n != 130 {
		t.Fatalf("Count = %d, want 130", n)
	}
	for _, bad := range []struct{ cursor, sort string }{
		{first.Next, ledger.SortOldest}, {"not-a-cursor!", ""}, {"MTpuZXdlc3Q6eDox", ""}, {strings.Repeat("A", 400), ""},
	} {
		if _, err := l.Search(ctx, ledger.Filter{Sort: bad.sort}, bad.cursor, 50); !errors.Is(err, ledger.ErrFilter) {
			t.Errorf("cursor %.20q for %q: %v, want ErrFilter", bad.cursor, bad.sort, err)
		}
	}
	if _, err := l.Search(ctx, ledger.Filter{Sort: "cost"}, "", 50); !errors.Is(err, ledger.ErrFilter) {
		t.Errorf("sort by cost: %v", err)
	}
	if _, err := l.Search(ctx, ledger.Filter{Camera: strings.Repeat("가", 100)}, "", 50); !errors.Is(err, ledger.ErrFilter) {
		t.Errorf("a 300-byte term: %v", err)
	}
}

// One export's row carries what the seed wrote: its camera, footage
// period in wall-clock time, masking counts, decision, delivery, and the
// watermark of the copy its render took from the ledger.
func TestRecord(t *testing.T) {
	ctx := context.Background()
	l, pool := seeded(t, 40)
	var id int64
	if err := pool.QueryRow(ctx, `SELECT min(id) FROM export WHERE state = 'queued' AND masked`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	e, err := l.Open(ctx, ledger.Request{Requester: "경위 김", Reason: "절도", IssuedBy: "approver.park", SourceName: "CAM.mp4"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Issue(ctx, e.Serial, sha256.Sum256([]byte("copy")), 10, 45); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `UPDATE export SET serial = $2 WHERE id = $1`, id, int64(e.Serial)); err != nil {
		t.Fatal(err)
	}
	r, err := l.Record(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 1, 1, 9, 0, 10, 0, kst)
	if r.Payload != e.Payload || r.State != "delivered" || r.Decision != "approved" || r.DecidedBy != "approver.park" ||
		!r.FootageStart.Equal(start) || !r.FootageEnd.Equal(start.Add(time.Minute)) || r.Faces == nil || r.ReceivedAt == nil ||
		r.SentAt == nil || r.PackageSHA256 == "" || r.Code != fmt.Sprintf("EX-%d-%06d", r.RequestedAt.Year(), id) {
		t.Fatalf("record: %+v", r)
	}
	if _, err := l.Record(ctx, 1<<40); !errors.Is(err, ledger.ErrNotFound) {
		t.Fatalf("unknown export: %v", err)
	}
	agencies, err := l.Agencies(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	want := slices.Sorted(slices.Values(ledgertest.Agencies))
	if slices.Sort(agencies); !slices.Equal(agencies, want) {
		t.Fatalf("agencies %q, want %q", agencies, want)
	}
}
