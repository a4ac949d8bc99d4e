package stats_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"sealgate/inner/stats"
	"sealgate/inner/store"
	"sealgate/shared/pgdb/pgtest"
)

// TestComputeAgreesWithPlainRows checks every figure against the rows read
// one by one and counted in Go, for the seeded half year, one month of it
// a period without exports and one that starts at an export's instant; and pins the seeded half year's figures.
func TestComputeAgreesWithPlainRows(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.NewPool(t, store.Migrations())
	seed(t, pool)
	all := readRows(t, pool)
	half, err := stats.Days("2026-01-01", "2026-06-30", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	march, err := stats.Month("2026-03", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []stats.Period{half, march, {From: at(4, 1, 0, 0), To: at(5, 1, 0, 0)},
		{From: at(5, 1, 0, 0), To: at(6, 1, 0, 0)}, {From: at(6, 30, 12, 0), To: at(8, 15, 0, 0)}} {
		got, err := stats.Compute(ctx, pool, p)
		if err != nil {
			t.Fatal(err)
		}
		want := expect(all, p)
		want.Period = p
		compare(t, p, got, &want)
	}

	r, err := stats.Compute(ctx, pool, half)
	if err != nil {
		t.Fatal(err)
	}
	var months []int
	for _, m := range r.Months {
		months = append(months, m.N)
	}
	// April has none: its only candidate is May's first instant in KST.
	if !reflect.DeepEqual(months, []int{2, 17, 3, 0, 2, 16}) || r.Total != 40 {
		t.Errorf("by month %v, total %d", months, r.Total)
	}
	if r.Outcomes != (stats.Outcomes{Delivered: 4, Rejected: 1, Cancelled: 2, Failed: 2, InProgress: 31}) {
		t.Errorf("outcomes %+v", r.Outcomes)
	}
	if r.Masked != (stats.Rate{N: 38, Of: 40}) || r.ApprovedMasked != (stats.Rate{N: 8, Of: 9}) || r.Refused != (stats.Rate{N: 1, Of: 10}) {
		t.Errorf("masked %v, approved masked %v, refused %v", r.Masked, r.ApprovedMasked, r.Refused)
	}
	if r.Decision != (stats.Turnaround{N: 9, Median: 4 * time.Hour, P90: 12*time.Hour + 48*time.Minute}) {
		t.Errorf("decision %+v", r.Decision)
	}
	if r.Overall.N != 4 || r.Overall.Median != 17*time.Hour+22*time.Minute+30*time.Second {
		t.Errorf("overall %+v", r.Overall)
	}
	if r.Refused.Percent() != "10.0%" || r.Decision.Hours(r.Decision.P90) != "12.8" || (stats.Rate{}).Percent() != "—" {
		t.Errorf("shown as %s, %s", r.Refused.Percent(), r.Decision.Hours(r.Decision.P90))
	}
	if len(r.Agencies) != stats.TopAgencies || r.OtherAgencies != 6 || r.OtherAgencyNames != 6 || r.Agencies[0].Key != "강남경찰서" {
		t.Errorf("agencies %+v, others %d of %d", r.Agencies, r.OtherAgencies, r.OtherAgencyNames)
	}
	sum := r.OtherCameras
	for _, c := range r.Cameras {
		sum += c.N
	}
	if sum != r.Total || r.OtherCameras == 0 {
		t.Errorf("cameras add up to %d of %d", sum, r.Total)
	}
}

func compare(t *testing.T, p stats.Period, got, want *stats.Report) {
	t.Helper()
	// Interpolated percentiles may differ by rounding to the nanosecond.
	for _, pair := range [][2]*stats.Turnaround{{&got.Decision, &want.Decision}, {&got.Delivery, &want.Delivery}, {&got.Overall, &want.Overall}} {
		g, w := pair[0], pair[1]
		if g.N != w.N || (g.Median-w.Median).Abs() > time.Millisecond || (g.P90-w.P90).Abs() > time.Millisecond {
			t.Errorf("%v: turnaround %+v, want %+v", p, *g, *w)
		}
		*g = *w
	}
	if len(got.Months) != len(want.Months) {
		t.Fatalf("%v: %d months, want %d", p, len(got.Months), len(want.Months))
	}
	for i := range got.Months {
		if !got.Months[i].Month.From.Equal(want.Months[i].Month.From) || !got.Months[i].Month.To.Equal(want.Months[i].Month.To) {
			t.Errorf("%v: month %d is %v", p, i, got.Months[i].Month)
		}
		got.Months[i].Month = want.Months[i].Month
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%v:\n got %+v\nwant %+v", p, *got, *want)
	}
}

func TestPeriods(t *testing.T) {
	now := time.Date(2026, 12, 7, 16, 0, 0, 0, time.UTC) // 2026-12-08 01:00 KST
	p, err := stats.Days("", "", now)
	if err != nil {
		t.Fatal(err)
	}
	if !p.From.Equal(at(1, 1, 0, 0)) || !p.To.Equal(time.Date(2026, 12, 9, 0, 0, 0, 0, kst)) || len(p.Months()) != 12 {
		t.Errorf("default period %v – %v, %d months", p.From, p.To, len(p.Months()))
	}
	if p.FirstDay() != "2026-01-01" || p.LastDay() != "2026-12-08" {
		t.Errorf("shown as %s – %s", p.FirstDay(), p.LastDay())
	}
	m, err := stats.Month("", now)
	if err != nil || m.Key() != "2026-11" || !m.To.Equal(time.Date(2026, 12, 1, 0, 0, 0, 0, kst)) {
		t.Errorf("default month %v, %v", m, err)
	}
	p, _ = stats.Days("2026-02-15", "2026-04-10", now)
	ms := p.Months()
	if len(ms) != 3 || !ms[0].From.Equal(at(2, 15, 0, 0)) || !ms[1].From.Equal(at(3, 1, 0, 0)) || !ms[2].To.Equal(at(4, 11, 0, 0)) {
		t.Errorf("months of a partial period: %v", ms)
	}
	for _, bad := range [][2]string{{"2026-13-01", ""}, {"", "yesterday"}, {"2026-05-01", "2026-04-30"}, {"2000-01-01", "2026-01-01"}} {
		if _, err := stats.Days(bad[0], bad[1], now); !errors.Is(err, stats.ErrPeriod) {
			t.Errorf("Days(%q, %q): %v", bad[0], bad[1], err)
		}
	}
	if _, err := stats.Month("2026-1", now); !errors.Is(err, stats.ErrPeriod) {
		t.Errorf("Month(2026-1): %v", err)
	}
}

// TestList lists a month's exports in order, with the codes and states the
// export pages show.
func TestList(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.NewPool(t, store.Migrations())
	seed(t, pool)
	june, _ := stats.Month("2026-06", time.Now())
	rows, more, err := stats.List(ctx, pool, june, 100)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := stats.Compute(ctx, pool, june)
	if len(rows) != r.Total || len(rows) != 16 || more {
		t.Fatalf("%d rows (more: %v), %d exports", len(rows), more, r.Total)
	}
	// At most limit rows, the first ones, and more says there are others.
	if first, more, err := stats.List(ctx, pool, june, 15); err != nil || len(first) != 15 || !more || first[14].ID != rows[14].ID {
		t.Fatalf("limited to 15: %d rows, more %v, %v", len(first), more, err)
	}
	if all, more, err := stats.List(ctx, pool, june, 16); err != nil || len(all) != 16 || more {
		t.Fatalf("limited to exactly the month's 16: %d rows, more %v, %v", len(all), more, err)
	}
	for i, row := range rows {
		if i > 0 && row.RequestedAt.Before(rows[i-1].RequestedAt) {
			t.Errorf("row %d out of order", i)
		}
		if !strings.HasPrefix(row.Code, "EX-2026-") || len(row.Code) != len("EX-2026-000000") {
			t.Errorf("code %q", row.Code)
		}
	}
	last := rows[len(rows)-1]
	if last.State != "ready" || last.ReasonCode != "property_damage" || last.Camera != "Cam <B> & \"co\"" || last.DecidedBy != "park.ap" {
		t.Errorf("the month's last export: %+v", last)
	}
	states := map[string]int{}
	for _, row := range rows {
		states[row.State]++
	}
	if states["delivered"] != 2 || states["cancelled"] != 1 || states["requested"] != 12 {
		t.Errorf("states %v", states)
	}
}

func TestBarChartEscapes(t *testing.T) {
	svg := string(stats.BarChart("chart-x", "By <agency>", []stats.Bar{
		{Key: `a"b`, Label: `<script>alert(1)</script> & 강남경찰서 형사과 강력1팀 제2사무실 민원 담당`, Value: 7},
		{Key: "z", Label: "zero", Value: 0},
	}))
	for _, want := range []string{`data-value="7"`, `data-value="0"`, `data-key="a&#34;b"`, `&lt;script&gt;`, `<title id="chart-x-title">By &lt;agency&gt;</title>`, `role="img"`, "…"} {
		if !strings.Contains(svg, want) {
			t.Errorf("chart lacks %s:\n%s", want, svg)
		}
	}
	if strings.Contains(svg, "<script>") {
		t.Errorf("chart carries a raw label:\n%s", svg)
	}
}
