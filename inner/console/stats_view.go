package console

import (
	"html/template"

	"sealgate/inner/stats"
	"sealgate/shared/i18n"
)

// statsView is what the statistics page and the monthly report show.
type statsView struct {
	From, To, Month string // the form's values
	Report          *stats.Report
	Charts          statsCharts
	Rows            []stats.Row  // the monthly report's list
	RowsLimited     bool         // the month has more than the list shows
	MonthLedger     template.URL // the month's ledger file, every row
	Site            string       // config site_name, or the appliance
	Printed         string       // when, in the report's zone
}

// statsCharts are the report's charts, drawn on the server in the reader's
// language.
type statsCharts struct {
	Months, Reasons, Agencies, Cameras, Outcomes template.HTML
}

func charts(lang string, r *stats.Report) statsCharts {
	var months, reasons, agencies, cameras []stats.Bar
	for _, m := range r.Months {
		months = append(months, stats.Bar{Key: m.Month.Key(), Label: m.Month.Key(), Value: m.N})
	}
	for _, c := range r.Reasons {
		reasons = append(reasons, stats.Bar{Key: c.Key, Label: i18n.T(lang, "reason."+c.Key), Value: c.N})
	}
	for _, c := range r.Agencies {
		agencies = append(agencies, stats.Bar{Key: c.Key, Label: c.Key, Value: c.N})
	}
	if r.OtherAgencyNames > 0 {
		agencies = append(agencies, stats.Bar{Key: "", Label: i18n.T(lang, "stats.others", r.OtherAgencyNames), Value: r.OtherAgencies})
	}
	for _, c := range r.Cameras {
		cameras = append(cameras, stats.Bar{Key: c.Name, Label: c.Name + " · " + c.Location, Value: c.N})
	}
	if r.OtherCameras > 0 {
		cameras = append(cameras, stats.Bar{Key: "", Label: i18n.T(lang, "stats.other_cameras"), Value: r.OtherCameras})
	}
	o := r.Outcomes
	outcomes := []stats.Bar{
		{Key: "delivered", Label: i18n.T(lang, "stats.outcome.delivered"), Value: o.Delivered},
		{Key: "rejected", Label: i18n.T(lang, "stats.outcome.rejected"), Value: o.Rejected},
		{Key: "cancelled", Label: i18n.T(lang, "stats.outcome.cancelled"), Value: o.Cancelled},
		{Key: "failed", Label: i18n.T(lang, "stats.outcome.failed"), Value: o.Failed},
		{Key: "in_progress", Label: i18n.T(lang, "stats.outcome.in_progress"), Value: o.InProgress},
	}
	return statsCharts{
		Months:   stats.BarChart("chart-months", i18n.T(lang, "stats.by_month"), months),
		Reasons:  stats.BarChart("chart-reasons", i18n.T(lang, "stats.by_reason"), reasons),
		Agencies: stats.BarChart("chart-agencies", i18n.T(lang, "stats.by_agency"), agencies),
		Cameras:  stats.BarChart("chart-cameras", i18n.T(lang, "stats.by_camera"), cameras),
		Outcomes: stats.BarChart("chart-outcomes", i18n.T(lang, "stats.by_outcome"), outcomes),
	}
}
