package export

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// A request may name a camera and a period instead of a clip: the police
// know where and when, not which file the NVR wrote. The period is found in
// the one recording that covers it; a period that crosses from one
// recording into the next is refused with the recordings it touches, so
// the operator files one request per recording (an export seals exactly
// one original, whose SHA-256 the manifest names).

// wallClockLayouts are the times a period is given in: RFC 3339 (the CLI),
// and the browser's datetime-local without a zone, read in the
// appliance's zone (the control center's).
var wallClockLayouts = []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02 15:04:05"}

// parseWallClock reads a time of day as the control center writes it.
func parseWallClock(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, true
	}
	for _, l := range wallClockLayouts {
		if t, err := time.ParseInLocation(l, s, time.Local); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// FootageAt finds the camera's one recording that covers from–to. Its
// errors are FieldErrors on camera, from and to.
func (w *Workflow) FootageAt(ctx context.Context, cameraID int64, from, to string) (*Footage, error) {
	var es FieldErrors
	if cameraID <= 0 {
		es = append(es, &FieldError{Field: "camera", Problem: "required"})
	} else if _, err := w.Camera(ctx, cameraID); err != nil {
		es = append(es, &FieldError{Field: "camera", Problem: "unknown_camera"})
	}
	start, okFrom := parseWallClock(from)
	end, okTo := parseWallClock(to)
	if !okFrom {
		es = append(es, &FieldError{Field: "from", Problem: "wall_clock"})
	}
	switch {
	case !okTo:
		es = append(es, &FieldError{Field: "to", Problem: "wall_clock"})
	case okFrom && !end.After(start):
		es = append(es, &FieldError{Field: "to", Problem: "before_from"})
	}
	if len(es) > 0 {
		return nil, es
	}
	rows, err := w.pool.Query(ctx, `SELECT `+footageColumns+` FROM footage
		WHERE camera_id = $1 AND deleted_at IS NULL AND started_at IS NOT NULL
		AND started_at < $3 AND started_at + duration_s * interval '1 second' > $2
		ORDER BY started_at, id`, cameraID, start, end)
	if err != nil {
		return nil, fmt.Errorf("export: find the footage of a period: %w", err)
	}
	defer rows.Close()
	var touched []*Footage
	for rows.Next() {
		f, err := scanFootage(rows)
		if err != nil {
			return nil, err
		}
		touched = append(touched, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("export: find the footage of a period: %w", err)
	}
	for _, f := range touched {
		if !f.StartedAt.After(start) && !f.StartedAt.Add(seconds(f.DurationS)).Before(end) {
			return f, nil
		}
	}
	if len(touched) == 0 {
		return nil, FieldErrors{{Field: "from", Problem: "no_footage"}}
	}
	span := func(f *Footage) string {
		return f.StartedAt.In(time.Local).Format("15:04:05") + "–" + f.StartedAt.Add(seconds(f.DurationS)).In(time.Local).Format("15:04:05")
	}
	if len(touched) == 1 {
		f, field := touched[0], "to"
		if start.Before(*f.StartedAt) {
			field = "from"
		}
		return nil, FieldErrors{{Field: field, Problem: "beyond", Arg: span(f)}}
	}
	names := make([]string, len(touched))
	for i, f := range touched {
		names[i] = fmt.Sprintf("%d (%s, %s)", f.ID, f.FileName, span(f))
	}
	return nil, FieldErrors{{Field: "to", Problem: "spans", Arg: strings.Join(names, ", ")}}
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
