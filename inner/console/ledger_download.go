package console

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/xuri/excelize/v2"

	"sealgate/inner/ledger"
	"sealgate/shared/accountui"
	"sealgate/shared/audit"
	"sealgate/shared/i18n"
)

// ledgerColumn is one column of the ledger's files: its header's message,
// its width in the xlsx (characters), and its value, a string, an int, a
// time (an Excel date cell in the xlsx) or nil (empty).
type ledgerColumn struct {
	key   string
	width float64
	value func(r *ledger.Record, lang string) any
}

// ledgerColumns are the files' columns, in the order of the seed
// product's ledger (docs/ledger.md, "Files"). The requester's phone stays
// out of the files: the detail page shows it to those who need to call.
var ledgerColumns = []ledgerColumn{
	{"ledger.code", 16, func(r *ledger.Record, _ string) any { return r.Code }},
	{"ledger.payload", 18, func(r *ledger.Record, _ string) any { return r.Payload }},
	{"ledger.state", 12, func(r *ledger.Record, l string) any { return i18n.T(l, "exports.state."+r.State) }},
	{"ledger.camera", 14, func(r *ledger.Record, _ string) any { return r.CameraName }},
	{"ledger.location", 24, func(r *ledger.Record, _ string) any { return r.CameraLocation }},
	{"ledger.reason", 12, func(r *ledger.Record, l string) any { return i18n.T(l, "reason."+r.ReasonCode) }},
	{"ledger.detail", 30, func(r *ledger.Record, _ string) any { return r.Detail }},
	{"ledger.requester", 12, func(r *ledger.Record, _ string) any { return r.RequesterName }},
	{"ledger.agency", 16, func(r *ledger.Record, _ string) any { return r.Agency }},
	{"ledger.document_no", 16, func(r *ledger.Record, _ string) any { return r.DocumentNo }},
	{"ledger.recipient", 14, func(r *ledger.Record, _ string) any { return r.Recipient }},
	{"ledger.footage_from", 18, func(r *ledger.Record, _ string) any { return footageTime(r.FootageStart, r.FootageFrom) }},
	{"ledger.footage_to", 18, func(r *ledger.Record, _ string) any { return footageTime(r.FootageEnd, r.FootageTo) }},
	{"ledger.masked", 8, func(r *ledger.Record, l string) any { return yesNo(l, r.Masked) }},
	{"ledger.faces", 6, func(r *ledger.Record, _ string) any { return count(r.Faces) }},
	{"ledger.plates", 6, func(r *ledger.Record, _ string) any { return count(r.Plates) }},
	{"ledger.people", 6, func(r *ledger.Record, _ string) any { return count(r.People) }},
	{"ledger.manual", 6, func(r *ledger.Record, _ string) any { return count(r.Manual) }},
	{"ledger.transcode", 10, func(r *ledger.Record, l string) any { return i18n.T(l, "ledger.transcode."+r.Transcode) }},
	{"ledger.delivery", 10, func(r *ledger.Record, l string) any { return i18n.T(l, "ledger.delivery."+r.Delivery) }},
	{"ledger.package", 20, func(r *ledger.Record, _ string) any { return r.PackageSHA256 }},
	{"ledger.requested", 18, func(r *ledger.Record, _ string) any { return r.RequestedAt }},
	{"ledger.requested_by", 14, func(r *ledger.Record, _ string) any { return r.RequestedBy }},
	{"ledger.decision", 8, func(r *ledger.Record, l string) any {
		if r.Decision == "" {
			return nil
		}
		return i18n.T(l, "ledger.decision."+r.Decision)
	}},
	{"ledger.decided_by", 14, func(r *ledger.Record, _ string) any { return r.DecidedBy }},
	{"ledger.decided", 18, func(r *ledger.Record, _ string) any { return deref(r.DecidedAt) }},
	{"ledger.sent", 18, func(r *ledger.Record, _ string) any { return deref(r.SentAt) }},
	{"ledger.received", 18, func(r *ledger.Record, _ string) any { return deref(r.ReceivedAt) }},
	{"ledger.first_viewed", 18, func(r *ledger.Record, _ string) any { return deref(r.FirstViewedAt) }},
	{"ledger.downloads", 8, func(r *ledger.Record, _ string) any { return count(r.Downloads) }},
	{"ledger.plays", 8, func(r *ledger.Record, _ string) any { return count(r.Plays) }},
	{"ledger.destroyed_at", 18, func(r *ledger.Record, _ string) any { return deref(r.DestroyedAt) }},
	{"ledger.viewing_days", 8, func(r *ledger.Record, _ string) any { return r.ViewingDays }},
}

func footageTime(wall time.Time, offset float64) any {
	if !wall.IsZero() {
		return wall
	}
	return fmt.Sprintf("+%.1f s", offset)
}

func yesNo(lang string, b bool) string {
	if b {
		return i18n.T(lang, "ledger.yes")
	}
	return i18n.T(lang, "ledger.no")
}

func count(n *int) any {
	if n == nil {
		return nil
	}
	return *n
}

func deref(t *time.Time) any {
	if t == nil {
		return nil
	}
	return *t
}

// wallClock is t as a clock in Korea reads it: Excel's dates have no time
// zone.
func wallClock(t time.Time) time.Time {
	k := t.In(i18n.Zone)
	return time.Date(k.Year(), k.Month(), k.Day(), k.Hour(), k.Minute(), k.Second(), 0, time.UTC)
}

// ledgerFile writes every row that matches the filter, not one page, as
// an attachment; the export of personal data is audited first, with its
// filter and row count.
func (c *Console) ledgerFile(e echo.Context, format string) error {
	f, v, err := ledgerFilter(e)
	if err != nil {
		return err
	}
	ctx := e.Request().Context()
	n, _, err := c.ledger.Count(ctx, f, 0)
	if err != nil {
		return ledgerError(err)
	}
	if err := c.audit.Append(ctx, audit.Entry{Actor: accountui.Session(e).User.Username, Action: "ledger.download", Target: "ledger",
		Outcome: audit.OK, Detail: fmt.Sprintf("%s, %d rows, filter %q", format, n, v.Query)}); err != nil {
		return err
	}
	lang := i18n.Pick(e.Request())
	name := "ledger-" + time.Now().In(i18n.Zone).Format("20060102-150405") + "." + format
	h := e.Response().Header()
	h.Set("Content-Disposition", `attachment; filename="`+name+`"`)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	if format == "csv" {
		h.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
		e.Response().WriteHeader(http.StatusOK)
		return c.ledgerCSV(e, f, lang)
	}
	// excelize writes the workbook's zip into memory before sending it
	// (about 200 MiB for 500,000 rows, docs/ledger.md): workbooks are
	// made one at a time, the next download waiting its turn.
	select {
	case c.xlsx <- struct{}{}:
		defer func() { <-c.xlsx }()
	case <-ctx.Done():
		return ctx.Err()
	}
	h.Set(echo.HeaderContentType, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	return c.ledgerXLSX(e, f, lang)
}

func (c *Console) ledgerCSVFile(e echo.Context) error  { return c.ledgerFile(e, "csv") }
func (c *Console) ledgerXLSXFile(e echo.Context) error { return c.ledgerFile(e, "xlsx") }

// ledgerCSV writes the rows as CSV with a UTF-8 byte order mark, which
// Korean Excel needs to read UTF-8. A text cell that a spreadsheet would
// take for a formula is quoted with a leading apostrophe.
func (c *Console) ledgerCSV(e echo.Context, f ledger.Filter, lang string) error {
	bw := bufio.NewWriterSize(e.Response(), 64<<10)
	bw.WriteString("\ufeff")
	w := csv.NewWriter(bw)
	row := make([]string, len(ledgerColumns))
	for i, col := range ledgerColumns {
		row[i] = i18n.T(lang, col.key)
	}
	w.Write(row)
	err := c.ledger.Each(e.Request().Context(), f, func(r *ledger.Record) error {
		shownRecord(e, r)
		for i, col := range ledgerColumns {
			switch v := col.value(r, lang).(type) {
			case nil:
				row[i] = ""
			case time.Time:
				row[i] = v.In(i18n.Zone).Format(time.DateTime)
			case string:
				row[i] = defuse(v)
			default:
				row[i] = fmt.Sprint(v)
			}
		}
		return w.Write(row)
	})
	w.Flush()
	if err == nil {
		err = w.Error()
	}
	if err == nil {
		err = bw.Flush()
	}
	return err
}

// defuse keeps a cell from being read as a formula (CSV injection).
func defuse(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// ledgerXLSX writes the rows as a workbook through excelize's stream
// writer, which spills the sheet's rows to a temporary file rather than
// memory (the compressed workbook is then built in memory): a header row
// in the session's language, frozen; dates as date cells.
func (c *Console) ledgerXLSX(e echo.Context, f ledger.Filter, lang string) error {
	x := excelize.NewFile()
	defer x.Close()
	sheet := i18n.T(lang, "ledger.sheet")
	if err := x.SetSheetName("Sheet1", sheet); err != nil {
		return err
	}
	sw, err := x.NewStreamWriter(sheet)
	if err != nil {
		return err
	}
	dateFmt := "yyyy-mm-dd hh:mm:ss"
	date, err := x.NewStyle(&excelize.Style{CustomNumFmt: &dateFmt})
	if err != nil {
		return err
	}
	head, err := x.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true},
		Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"DDE4EE"}}})
	if err != nil {
		return err
	}
	for i, col := range ledgerColumns {
		if err := sw.SetColWidth(i+1, i+1, col.width); err != nil {
			return err
		}
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	cells := make([]any, len(ledgerColumns))
	for i, col := range ledgerColumns {
		cells[i] = excelize.Cell{StyleID: head, Value: i18n.T(lang, col.key)}
	}
	if err := sw.SetRow("A1", cells); err != nil {
		return err
	}
	rowNo := 1
	err = c.ledger.Each(e.Request().Context(), f, func(r *ledger.Record) error {
		shownRecord(e, r)
		rowNo++
		for i, col := range ledgerColumns {
			switch v := col.value(r, lang).(type) {
			case time.Time:
				cells[i] = excelize.Cell{StyleID: date, Value: wallClock(v)}
			default:
				cells[i] = v
			}
		}
		cell, err := excelize.CoordinatesToCellName(1, rowNo)
		if err != nil {
			return err
		}
		return sw.SetRow(cell, cells)
	})
	if err != nil {
		return err
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	e.Response().WriteHeader(http.StatusOK)
	return x.Write(e.Response())
}
