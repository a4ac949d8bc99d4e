package export

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"sealgate/inner/requester"
	"sealgate/shared/audit"
)

// ReasonCodes are the legal grounds a request names (PIPA art. 18 ②: an
// investigation, a missing person…), as the control centers' forms list them.
var ReasonCodes = []string{"theft", "assault", "traffic_accident", "missing_person", "property_damage", "other"}

// ViewingDays are the viewing periods an officer may be given; those
// longer than MaxViewingDays need an admin's approval too.
var ViewingDays = []int{7, 15, 30, 60, 90}

// MaxViewingDays is the longest viewing period an approver alone grants.
const MaxViewingDays = 30

// Request is a police request for footage as the form or the CLI gives it.
type Request struct {
	FootageID     int64
	CameraID      int64 // without FootageID: the camera whose recording covers From–To (wall-clock times)
	ReasonCode    string
	Detail        string
	RequesterName string
	Agency        string
	Phone         string
	DocumentNo    string // the official request document's number
	Recipient     string // the officer's account at the outer portal
	ViewingDays   int
	From, To      string // cut: offsets into the footage (90, 1:30, 00:01:30.5) or RFC 3339 times; empty: its start, its end
	Transcode     string // keep or 720p
	NoMask        bool
	Justification string // why masking is off (trust rule 4)
	Offline       bool   // a password-sealed file handed over on media
	// Password, if set, is the offline package's password, chosen by the
	// requester (at least MinPassword characters); otherwise one is
	// generated. It is never stored in the database.
	Password string
}

// MinPassword is the shortest password a requester may choose.
const MinPassword = 12

// File records the request for the actor, in state requested, and returns
// its id. Every wrong field is reported at once.
func (w *Workflow) File(ctx context.Context, a Actor, r Request) (int64, error) {
	if err := w.allowed(ctx, a, requestRoles, "export.request", fmt.Sprintf("footage %d", r.FootageID)); err != nil {
		return 0, err
	}
	var es FieldErrors
	var f *Footage
	if r.FootageID <= 0 && r.CameraID > 0 {
		ff, err := w.FootageAt(ctx, r.CameraID, r.From, r.To)
		var fes FieldErrors
		switch {
		case errors.As(err, &fes):
			es = append(es, fes...)
		case err != nil:
			return 0, err
		default:
			f, r.FootageID = ff, ff.ID
		}
	} else if r.FootageID <= 0 {
		es = append(es, &FieldError{Field: "footage", Problem: "required"})
	} else if ff, err := w.OneFootage(ctx, r.FootageID); err != nil {
		es = append(es, &FieldError{Field: "footage", Problem: "unknown"})
	} else if ff.DeletedAt != nil {
		es = append(es, &FieldError{Field: "footage", Problem: "deleted"})
	} else {
		f = ff
	}
	trim(&r.Detail, &r.RequesterName, &r.Agency, &r.Phone, &r.DocumentNo, &r.Recipient, &r.Justification)
	es = choice(es, "reason", r.ReasonCode, ReasonCodes)
	es = text(es, "detail", r.Detail, true, 2000)
	es = text(es, "requester_name", r.RequesterName, true, 100)
	es = text(es, "agency", r.Agency, true, 200)
	es = text(es, "phone", r.Phone, false, 40)
	es = text(es, "document_no", r.DocumentNo, true, 100)
	es = text(es, "recipient", r.Recipient, true, 100)
	if !slices.Contains(ViewingDays, r.ViewingDays) {
		es = append(es, &FieldError{Field: "viewing_days", Problem: "choice", Arg: "7, 15, 30, 60, 90"})
	}
	if r.Transcode == "" {
		r.Transcode = "keep"
	}
	es = choice(es, "transcode", r.Transcode, []string{"keep", "720p"})
	if r.NoMask {
		if utf8.RuneCountInString(r.Justification) < 10 {
			es = append(es, &FieldError{Field: "justification", Problem: "justify"})
		}
		es = text(es, "justification", r.Justification, true, 1000)
	} else {
		r.Justification = ""
	}
	if r.Password != "" {
		switch {
		case !r.Offline:
			es = append(es, &FieldError{Field: "password", Problem: "offline_only"})
		case utf8.RuneCountInString(r.Password) < MinPassword:
			es = append(es, &FieldError{Field: "password", Problem: "short", Arg: MinPassword})
		default:
			es = text(es, "password", r.Password, true, 1024)
		}
	}
	from, to := 0.0, (*float64)(nil)
	if f != nil {
		var err *FieldError
		if from, err = clipTime("from", r.From, f, 0); err != nil {
			es = append(es, err)
		}
		if r.To != "" {
			t, err := clipTime("to", r.To, f, f.DurationS)
			switch {
			case err != nil:
				es = append(es, err)
			case t <= from:
				es = append(es, &FieldError{Field: "to", Problem: "before_from"})
			default:
				to = &t
			}
		}
	}
	if len(es) > 0 {
		return 0, es
	}
	delivery := "online"
	if r.Offline {
		delivery = "offline"
	}
	var id int64
	err := w.tx(ctx, func(tx pgx.Tx) error {
		// The id is drawn first: the sealed values' associated data names it.
		if err := tx.QueryRow(ctx, `SELECT nextval(pg_get_serial_sequence('export', 'id'))`).Scan(&id); err != nil {
			return fmt.Errorf("export: number the request: %w", err)
		}
		who, err := requester.Seal(w.cfg.PII, id, r.RequesterName, r.Phone)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO export (id, footage_id, reason_code, detail, requester_name_sealed, requester_name_index, requester_agency,
			requester_phone_sealed, document_no, recipient, viewing_days, clip_from_s, clip_to_s, transcode, masked, unmasked_reason, delivery, requested_by)
			OVERRIDING SYSTEM VALUE VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`,
			id, r.FootageID, r.ReasonCode, r.Detail, who.Name, who.NameIndex, r.Agency, who.Phone, r.DocumentNo, r.Recipient, r.ViewingDays,
			from, to, r.Transcode, !r.NoMask, r.Justification, delivery, a.Audited())
		if err != nil {
			return fmt.Errorf("export: record the request: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO export_event (export_id, actor, from_state, to_state, reason) VALUES ($1, $2, '', 'requested', $3)`,
			id, a.Audited(), r.Detail); err != nil {
			return err
		}
		// The append-only audit chain cannot be re-encrypted, so it names
		// the requester by agency and document, never by name or phone.
		detail := fmt.Sprintf("footage %d, %s for %s (document %s), to %s for %d days", r.FootageID, r.ReasonCode,
			r.Agency, r.DocumentNo, r.Recipient, r.ViewingDays)
		if r.NoMask {
			detail += "; WITHOUT MASKING: " + r.Justification
		}
		if r.Password != "" {
			if w.cfg.KeepPassword == nil {
				return errors.New("export: this node cannot keep a chosen hand-over password")
			}
			// Kept before the request commits: a request whose password
			// is lost would seal under one nobody knows.
			if err := w.cfg.KeepPassword(id, r.Password); err != nil {
				return err
			}
			detail += "; password chosen by the requester"
		}
		return w.record(ctx, tx, a, "export.request", exportTarget(id), audit.OK, detail)
	})
	return id, err
}

func trim(ss ...*string) {
	for _, s := range ss {
		*s = strings.TrimSpace(*s)
	}
}

// clipTime reads a cut point: seconds into the footage (90, 90.5), a clock
// offset (1:30, 00:01:30.5), or a wall-clock time when the footage knows
// when it started (RFC 3339, or the appliance's local time as a browser's
// datetime-local gives it). It must fall inside the footage.
func clipTime(field, s string, f *Footage, empty float64) (float64, *FieldError) {
	s = strings.TrimSpace(s)
	if s == "" {
		return empty, nil
	}
	var secs float64
	if t, ok := parseWallClock(s); ok {
		if f.StartedAt == nil {
			return 0, &FieldError{Field: field, Problem: "no_start"}
		}
		secs = t.Sub(*f.StartedAt).Seconds()
	} else {
		parts := strings.Split(s, ":")
		if len(parts) > 3 {
			return 0, &FieldError{Field: field, Problem: "time"}
		}
		for i, p := range parts {
			v, err := strconv.ParseFloat(p, 64)
			if err != nil || v < 0 || math.IsInf(v, 0) || i < len(parts)-1 && v != math.Trunc(v) {
				return 0, &FieldError{Field: field, Problem: "time"}
			}
			secs = secs*60 + v
		}
	}
	if secs > f.DurationS && secs-f.DurationS < 1e-6 {
		secs = f.DurationS // a wall-clock end at the recording's last instant, less float rounding
	}
	if secs < 0 || secs > f.DurationS {
		return 0, &FieldError{Field: field, Problem: "outside", Arg: fmt.Sprintf("%.1f", f.DurationS)}
	}
	return secs, nil
}

func exportTarget(id int64) string { return fmt.Sprintf("export %d", id) }
