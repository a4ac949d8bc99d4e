package stats_test

import (
	"cmp"
	"context"
	"math"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"sealgate/inner/export"
	"sealgate/inner/stats"
	"sealgate/inner/stats/statstest"
	"sealgate/shared/pgdb/pgtest"
)

// kst is the users' zone (i18n.Zone), so a month's edge in Korea is not a
// month's edge in UTC, where these tests run.
var kst = time.FixedZone("KST", 9*3600)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func at(month time.Month, day, hour, minute int) time.Time {
	return time.Date(2026, month, day, hour, minute, 0, 0, kst)
}

// seed fills the database with exports across the first half of 2026 (and
// just outside it), April without any, of every outcome.
func seed(t *testing.T, pool *pgxpool.Pool) {
	s := &statstest.Seeder{Pool: pool}
	a := s.Camera(t, "역삼역 4번 출구", "서울 강남구 역삼동 823")
	b := s.Camera(t, "Cam <B> & \"co\"", "Seocho-daero 1")
	c := s.Camera(t, "교대역 사거리", "서울 서초구 서초동 1")
	h := time.Hour
	for _, e := range []statstest.Export{
		// Delivered online: the outer's receipt came a day later.
		{Camera: a, Reason: "theft", Agency: "강남경찰서", State: "queued", Requested: at(1, 5, 10, 0), Decided: at(1, 5, 12, 0),
			Outbox: "delivered", DeliveredAt: at(1, 6, 12, 0)},
		// Delivered offline: handed over two days later.
		{Camera: b, Reason: "assault", Agency: "강남경찰서", Offline: true, State: "delivered", Requested: at(1, 20, 9, 0),
			Decided: at(1, 20, 14, 0), HandedOver: at(1, 22, 11, 0)},
		{Camera: a, Reason: "theft", Agency: "서초경찰서", Unmasked: true, State: "rejected", Requested: at(2, 10, 9, 0), Decided: at(2, 10, 10, 0)},
		// 2026-03-01 00:30 KST is still February in UTC.
		{Camera: c, Reason: "traffic_accident", Agency: "서초경찰서", State: "cancelled", Requested: time.Date(2026, 2, 28, 15, 30, 0, 0, time.UTC)},
		{Camera: b, Reason: "missing_person", Agency: "도로교통공단", State: "failed", Requested: at(3, 3, 8, 0), Decided: at(3, 3, 11, 0)},
		// The outer refused the package for good: failed.
		{Camera: a, Reason: "theft", Agency: "송파경찰서", State: "queued", Requested: at(3, 15, 9, 0), Decided: at(3, 15, 19, 0), Outbox: "refused"},
		// The first instant of May (April 30 in UTC).
		{Camera: c, Reason: "other", Agency: "송파경찰서", State: "requested", Requested: at(5, 1, 0, 0)},
		{Camera: a, Reason: "theft", Agency: "강남경찰서", Unmasked: true, State: "queued", Requested: at(5, 10, 9, 0), Decided: at(5, 10, 13, 0),
			Outbox: "sending"},
		{Camera: b, Reason: "property_damage", Agency: "강남경찰서", Offline: true, State: "ready", Requested: at(6, 30, 23, 59).Add(59 * time.Second),
			Decided: at(7, 1, 8, 0)},
		{Camera: c, Reason: "theft", Agency: "서초경찰서", State: "queued", Requested: at(6, 15, 9, 0), Decided: at(6, 15, 10, 0),
			Outbox: "delivered", DeliveredAt: at(6, 15, 13, 0)},
		{Camera: a, Reason: "assault", Agency: "서초경찰서", Offline: true, State: "delivered", Requested: at(6, 16, 9, 0), Decided: at(6, 16, 9, 30),
			HandedOver: at(6, 16, 17, 45)},
		// Approved, then cancelled before it rendered: approved all the same.
		{Camera: b, Reason: "theft", Agency: "강남경찰서", State: "cancelled", Requested: at(6, 17, 9, 0), Decided: at(6, 18, 9, 0)},
		// Just outside the period, on both sides.
		{Camera: a, Reason: "theft", Agency: "강남경찰서", State: "requested", Requested: at(7, 1, 0, 0)},
		{Camera: a, Reason: "theft", Agency: "강남경찰서", State: "requested", Requested: at(1, 1, 0, 0).Add(-time.Second)},
	} {
		s.Export(t, e)
	}
	// Many small agencies: more than the chart names.
	for i := range stats.TopAgencies + 2 {
		s.Export(t, statstest.Export{Camera: c, Reason: "other", Agency: string(rune('가'+i)) + " 지구대", State: "requested",
			Requested: at(6, 1, 9, 0).Add(time.Duration(i) * h)})
	}
	// More cameras than the chart names.
	for i := range stats.TopCameras + 1 {
		cam := s.Camera(t, "extra "+string(rune('A'+i)), "somewhere")
		s.Export(t, statstest.Export{Camera: cam, Reason: "other", Agency: "강남경찰서", State: "requested", Requested: at(2, 2, 9, i)})
	}
}

// row is one export as the test reads it, plainly.
type row struct {
	id                   int64
	requested            time.Time
	decided              *time.Time
	state, delivery      string
	masked               bool
	reason, agency       string
	camera               int64
	cameraName, location string
	outboxState          *string
	outboxDelivered      *time.Time
	handedOver           *time.Time
}

// readRows reads every export and computes nothing in SQL.
func readRows(t *testing.T, pool *pgxpool.Pool) []row {
	ctx := context.Background()
	rows, err := pool.Query(ctx, `SELECT id, requested_at, decided_at, state, delivery, masked, reason_code, requester_agency, footage_id, outbox_id FROM export`)
	if err != nil {
		t.Fatal(err)
	}
	type raw struct {
		r       row
		footage int64
		outbox  *int64
	}
	raws, err := pgx.CollectRows(rows, func(cr pgx.CollectableRow) (raw, error) {
		var x raw
		return x, cr.Scan(&x.r.id, &x.r.requested, &x.r.decided, &x.r.state, &x.r.delivery, &x.r.masked, &x.r.reason, &x.r.agency, &x.footage, &x.outbox)
	})
	if err != nil {
		t.Fatal(err)
	}
	var out []row
	for _, x := range raws {
		r := x.r
		if err := pool.QueryRow(ctx, `SELECT camera_id FROM footage WHERE id = $1`, x.footage).Scan(&r.camera); err != nil {
			t.Fatal(err)
		}
		if err := pool.QueryRow(ctx, `SELECT name, location FROM camera WHERE id = $1`, r.camera).Scan(&r.cameraName, &r.location); err != nil {
			t.Fatal(err)
		}
		if x.outbox != nil {
			r.outboxState = new(string)
			if err := pool.QueryRow(ctx, `SELECT state, delivered_at FROM outbox WHERE id = $1`, *x.outbox).Scan(r.outboxState, &r.outboxDelivered); err != nil {
				t.Fatal(err)
			}
		}
		evs, _ := pool.Query(ctx, `SELECT at, to_state FROM export_event WHERE export_id = $1`, r.id)
		for evs.Next() {
			var when time.Time
			var to string
			evs.Scan(&when, &to)
			if to == "delivered" && (r.handedOver == nil || when.Before(*r.handedOver)) {
				r.handedOver = &when
			}
		}
		if evs.Err() != nil {
			t.Fatal(evs.Err())
		}
		out = append(out, r)
	}
	return out
}

// deliveredAt is when the package reached its recipient, if it did.
func (r row) deliveredAt() (time.Time, bool) {
	switch {
	case r.delivery == "online" && r.outboxState != nil && *r.outboxState == "delivered":
		return *r.outboxDelivered, true
	case r.delivery == "offline" && r.state == "delivered":
		return *r.handedOver, true
	}
	return time.Time{}, false
}

func (r row) approved() bool { return r.decided != nil && r.state != "rejected" }

// percentile interpolates linearly between the closest ranks, as
// PostgreSQL's percentile_cont does.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	pos := p * float64(len(ds)-1)
	lo, hi := int(math.Floor(pos)), int(math.Ceil(pos))
	return ds[lo] + time.Duration(float64(ds[hi]-ds[lo])*(pos-float64(lo)))
}

func turnaround(ds []time.Duration) stats.Turnaround {
	return stats.Turnaround{N: len(ds), Median: percentile(ds, .5), P90: percentile(ds, .9)}
}

// expect computes the report of p from the plain rows.
func expect(all []row, p stats.Period) stats.Report {
	var r stats.Report
	reasons, agencies := map[string]int{}, map[string]int{}
	cameras := map[int64]*stats.CameraCount{}
	months := map[string]int{}
	var decision, delivery, overall []time.Duration
	for _, e := range all {
		if e.requested.Before(p.From) || !e.requested.Before(p.To) {
			continue
		}
		r.Total++
		months[e.requested.In(kst).Format("2006-01")]++
		reasons[e.reason]++
		agencies[e.agency]++
		if cameras[e.camera] == nil {
			cameras[e.camera] = &stats.CameraCount{ID: e.camera, Name: e.cameraName, Location: e.location}
		}
		cameras[e.camera].N++
		at, delivered := e.deliveredAt()
		switch {
		case delivered:
			r.Outcomes.Delivered++
		case e.state == "rejected":
			r.Outcomes.Rejected++
		case e.state == "cancelled":
			r.Outcomes.Cancelled++
		case e.state == "failed", e.outboxState != nil && *e.outboxState == "refused":
			r.Outcomes.Failed++
		default:
			r.Outcomes.InProgress++
		}
		if e.masked {
			r.Masked.N++
		}
		if e.decided != nil {
			r.Refused.Of++
		}
		if e.state == "rejected" {
			r.Refused.N++
		}
		if e.approved() {
			r.ApprovedMasked.Of++
			if e.masked {
				r.ApprovedMasked.N++
			}
			decision = append(decision, e.decided.Sub(e.requested))
			if delivered {
				delivery = append(delivery, at.Sub(*e.decided))
			}
		}
		if delivered {
			overall = append(overall, at.Sub(e.requested))
		}
	}
	r.Masked.Of = r.Total
	r.Decision, r.Delivery, r.Overall = turnaround(decision), turnaround(delivery), turnaround(overall)
	for _, m := range p.Months() {
		r.Months = append(r.Months, stats.MonthCount{Month: m, N: months[m.Key()]})
	}
	for _, code := range export.ReasonCodes {
		r.Reasons = append(r.Reasons, stats.Count{Key: code, N: reasons[code]})
	}
	var ags []stats.Count
	for k, n := range agencies {
		ags = append(ags, stats.Count{Key: k, N: n})
	}
	slices.SortFunc(ags, func(a, b stats.Count) int { return cmp.Or(cmp.Compare(b.N, a.N), cmp.Compare(a.Key, b.Key)) })
	for i, a := range ags {
		if i < stats.TopAgencies {
			r.Agencies = append(r.Agencies, a)
		} else {
			r.OtherAgencies += a.N
			r.OtherAgencyNames++
		}
	}
	var cams []stats.CameraCount
	for _, c := range cameras {
		cams = append(cams, *c)
	}
	slices.SortFunc(cams, func(a, b stats.CameraCount) int {
		return cmp.Or(cmp.Compare(b.N, a.N), cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
	})
	for i, c := range cams {
		if i < stats.TopCameras {
			r.Cameras = append(r.Cameras, c)
		} else {
			r.OtherCameras += c.N
		}
	}
	return r
}
