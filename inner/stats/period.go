// Package stats computes the export statistics and the monthly report of
// the inner console (docs/ledger.md, "Statistics" and "Monthly report"):
// for the exports requested in a period, how many, of which month, reason,
// agency and camera, what became of them, how often they were masked or
// refused, and how long decisions and deliveries took.
package stats

import (
	"errors"
	"fmt"
	"time"

	"sealgate/shared/i18n"
)

// Period is a half-open span of time [From, To). Calendar days and months
// are those of the appliance's users' time zone (i18n.Zone, Korea).
type Period struct {
	From, To time.Time
}

// MaxMonths bounds a period: the statistics page shows one bar a month.
const MaxMonths = 120

// ErrPeriod is a period the statistics cannot be computed for.
var ErrPeriod = errors.New("stats: bad period")

// DateLayout is how the console's forms give a day; MonthLayout a month.
const (
	DateLayout  = "2006-01-02"
	MonthLayout = "2006-01"
)

// Days is the period from the start of day from to the end of day to, both
// YYYY-MM-DD and included. An empty from is the first day of the month
// eleven months before now's; an empty to is now's day: by default the
// last twelve calendar months, the current one so far.
func Days(from, to string, now time.Time) (Period, error) {
	now = now.In(i18n.Zone)
	var p Period
	if from == "" {
		p.From = time.Date(now.Year(), now.Month()-11, 1, 0, 0, 0, 0, i18n.Zone)
	} else {
		t, err := time.ParseInLocation(DateLayout, from, i18n.Zone)
		if err != nil {
			return Period{}, fmt.Errorf("%w: from %q is not a date (YYYY-MM-DD)", ErrPeriod, from)
		}
		p.From = t
	}
	last := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, i18n.Zone)
	if to != "" {
		t, err := time.ParseInLocation(DateLayout, to, i18n.Zone)
		if err != nil {
			return Period{}, fmt.Errorf("%w: to %q is not a date (YYYY-MM-DD)", ErrPeriod, to)
		}
		last = t
	}
	p.To = last.AddDate(0, 0, 1)
	return p, p.Check()
}

// Month is the calendar month s (YYYY-MM); an empty s is the month before
// now's, the one a monthly report is usually filed for.
func Month(s string, now time.Time) (Period, error) {
	now = now.In(i18n.Zone)
	start := time.Date(now.Year(), now.Month()-1, 1, 0, 0, 0, 0, i18n.Zone)
	if s != "" {
		t, err := time.ParseInLocation(MonthLayout, s, i18n.Zone)
		if err != nil {
			return Period{}, fmt.Errorf("%w: month %q is not YYYY-MM", ErrPeriod, s)
		}
		start = t
	}
	p := Period{From: start, To: start.AddDate(0, 1, 0)}
	return p, p.Check()
}

// Check reports a period that is empty, reversed or longer than MaxMonths.
func (p Period) Check() error {
	if !p.From.Before(p.To) {
		return fmt.Errorf("%w: %s is not before %s", ErrPeriod, p.From.Format(time.RFC3339), p.To.Format(time.RFC3339))
	}
	if len(p.Months()) > MaxMonths {
		return fmt.Errorf("%w: longer than %d months", ErrPeriod, MaxMonths)
	}
	return nil
}

// Months are the calendar months the period touches, each cut to the
// period: the first and last may be partial.
func (p Period) Months() []Period {
	var ms []Period
	from := p.From.In(i18n.Zone)
	start := time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, i18n.Zone)
	for ; start.Before(p.To) && len(ms) <= MaxMonths; start = start.AddDate(0, 1, 0) {
		m := Period{From: start, To: start.AddDate(0, 1, 0)}
		if m.From.Before(p.From) {
			m.From = p.From
		}
		if m.To.After(p.To) {
			m.To = p.To
		}
		ms = append(ms, m)
	}
	return ms
}

// LastDay is the period's last day as a form gives it (To is exclusive).
func (p Period) LastDay() string { return p.To.In(i18n.Zone).Add(-time.Nanosecond).Format(DateLayout) }

// FirstDay is the period's first day as a form gives it.
func (p Period) FirstDay() string { return p.From.In(i18n.Zone).Format(DateLayout) }

// Key is a month's YYYY-MM.
func (p Period) Key() string { return p.From.In(i18n.Zone).Format(MonthLayout) }
