package ledger

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"sealgate/inner/requester"
	"sealgate/inner/watermark"
	"sealgate/shared/account"
)

// Record is one export in the export ledger (반출관리대장): the request,
// its decision, what was made and where it went. Rows of the marked copies
// (Entry) are the forensic side of the same ledger; a Record names the
// latest copy made for the export by its watermark payload.
type Record struct {
	ExportID       int64     `json:"export_id"`
	Code           string    `json:"code"`
	State          string    `json:"state"`
	CameraName     string    `json:"camera_name"`
	CameraLocation string    `json:"camera_location"`
	ReasonCode     string    `json:"reason_code"`
	Detail         string    `json:"detail"`
	RequesterName  string    `json:"requester_name"`
	Agency         string    `json:"agency"`
	Phone          string    `json:"phone,omitempty"`
	DocumentNo     string    `json:"document_no"`
	Recipient      string    `json:"recipient"`
	ViewingDays    int       `json:"viewing_days"`
	FileName       string    `json:"file_name"`
	FootageFrom    float64   `json:"footage_from_s"` // offsets into the footage
	FootageTo      float64   `json:"footage_to_s"`
	FootageStart   time.Time `json:"footage_start,omitzero"` // wall clock of FootageFrom, when the recording knows its start
	FootageEnd     time.Time `json:"footage_end,omitzero"`
	Masked         bool      `json:"masked"`
	UnmaskedReason string    `json:"unmasked_reason,omitempty"`
	// Counts of what the render masked; nil until it has rendered, and
	// for an export without masking.
	Faces          *int       `json:"masked_faces,omitempty"`
	Plates         *int       `json:"masked_plates,omitempty"`
	People         *int       `json:"masked_people,omitempty"`
	Manual         *int       `json:"manual_tracks,omitempty"`   // drawn or corrected by hand
	Excluded       *int       `json:"excluded_tracks,omitempty"` // left unmasked by a reviewer
	Transcode      string     `json:"transcode"`
	Delivery       string     `json:"delivery"` // online, offline
	PackageSHA256  string     `json:"package_sha256,omitempty"`
	RequestedBy    string     `json:"requested_by"`
	RequestedAt    time.Time  `json:"requested_at"`
	Decision       string     `json:"decision,omitempty"` // approved, rejected; empty until decided
	DecidedBy      string     `json:"decided_by,omitempty"`
	DecidedAt      *time.Time `json:"decided_at,omitempty"`
	DecisionReason string     `json:"decision_reason,omitempty"`
	Payload        string     `json:"payload,omitempty"`     // the watermark of the latest copy
	SentAt         *time.Time `json:"sent_at,omitempty"`     // queued for the outer
	ReceivedAt     *time.Time `json:"received_at,omitempty"` // the outer's signed receipt (online), the hand-over (offline)
	// What the addressed officers did with an online export's package, as
	// the outer's last signed status reply (at UseAsOf) said; nil until the
	// outer has answered, and for an offline export.
	UseAsOf             *time.Time `json:"use_as_of,omitempty"`
	FirstViewedAt       *time.Time `json:"first_viewed_at,omitempty"`
	Downloads           *int       `json:"downloads,omitempty"`
	Plays               *int       `json:"plays,omitempty"`
	DestroyedAt         *time.Time `json:"destroyed_at,omitempty"`
	DestructionVerified bool       `json:"destruction_verified"`
	DestructionReason   string     `json:"destruction_reason,omitempty"`
}

// ShownStateSQL is an export's state as the console shows it: inner/export's,
// with the outbox's after queued. It reads export e and its outbox row o.
const ShownStateSQL = `CASE WHEN e.state = 'queued' AND o.state = 'sending' THEN 'transferring'
		WHEN e.state = 'queued' AND o.state = 'delivered' THEN 'delivered'
		WHEN e.state = 'queued' AND o.state = 'refused' THEN 'refused' ELSE e.state END`

// The search's SQL: an export with its camera, footage, copy and outbox
// row; received is the outer's receipt for an online export, the
// hand-over for an offline one.
const (
	recordColumns = `e.id, ` + ShownStateSQL + `, c.name, c.location, e.reason_code, e.detail, e.requester_name_sealed, e.requester_agency,
	e.requester_phone_sealed, e.document_no, e.recipient, e.viewing_days, f.file_name, e.clip_from_s, coalesce(e.clip_to_s, f.duration_s), f.started_at,
	e.masked, e.unmasked_reason, e.masked_faces, e.masked_plates, e.masked_people, e.manual_tracks, e.excluded_tracks,
	e.transcode, e.delivery, e.package_sha256, e.requested_by, e.requested_at, coalesce(e.decided_by, ''), e.decided_at, e.decision_reason,
	coalesce(cp.appliance, 0), coalesce(e.serial, 0), o.created_at,
	CASE WHEN e.delivery = 'offline' THEN (SELECT min(ev.at) FROM export_event ev WHERE ev.export_id = e.id AND ev.to_state = 'delivered')
		ELSE o.delivered_at END,
	o.queried_at, o.first_viewed_at, o.downloads, o.plays,
	o.destroyed_at, coalesce(o.destruction_verified, false), coalesce(o.destruction_reason, '')`
	recordFrom = ` FROM export e JOIN footage f ON f.id = e.footage_id JOIN camera c ON c.id = f.camera_id
	LEFT JOIN outbox o ON o.id = e.outbox_id LEFT JOIN ledger cp ON cp.serial = e.serial`
)

// MaskCounts is faces, plates, people and manual edits, once rendered
// with masking; nil before, and without masking.
func (r *Record) MaskCounts() []int {
	if r.Faces == nil || r.Plates == nil || r.People == nil || r.Manual == nil {
		return nil
	}
	return []int{*r.Faces, *r.Plates, *r.People, *r.Manual}
}

// UseCounts is downloads and plays once the outer has answered about an
// online export's package; nil before, and offline.
func (r *Record) UseCounts() []int {
	if r.Downloads == nil || r.Plays == nil {
		return nil
	}
	return []int{*r.Downloads, *r.Plays}
}

func (l *Ledger) scanRecord(row pgx.Row) (*Record, error) {
	var r Record
	var pkg, name, phone []byte
	var started *time.Time
	var appliance int32
	var serial int64
	if err := row.Scan(&r.ExportID, &r.State, &r.CameraName, &r.CameraLocation, &r.ReasonCode, &r.Detail, &name, &r.Agency,
		&phone, &r.DocumentNo, &r.Recipient, &r.ViewingDays, &r.FileName, &r.FootageFrom, &r.FootageTo, &started,
		&r.Masked, &r.UnmaskedReason, &r.Faces, &r.Plates, &r.People, &r.Manual, &r.Excluded,
		&r.Transcode, &r.Delivery, &pkg, &r.RequestedBy, &r.RequestedAt, &r.DecidedBy, &r.DecidedAt, &r.DecisionReason,
		&appliance, &serial, &r.SentAt, &r.ReceivedAt, &r.UseAsOf, &r.FirstViewedAt, &r.Downloads, &r.Plays, &r.DestroyedAt, &r.DestructionVerified, &r.DestructionReason); err != nil {
		return nil, err
	}
	r.Code = requester.Code(r.ExportID, r.RequestedAt)
	if err := l.openRequester(&r, name, phone); err != nil {
		return nil, err
	}
	if started != nil {
		r.FootageStart = started.Add(time.Duration(r.FootageFrom * float64(time.Second)))
		r.FootageEnd = started.Add(time.Duration(r.FootageTo * float64(time.Second)))
	}
	if pkg != nil {
		r.PackageSHA256 = hex.EncodeToString(pkg)
	}
	if r.DecidedAt != nil {
		r.Decision = "approved"
		if r.State == "rejected" {
			r.Decision = "rejected"
		}
	}
	if serial > 0 {
		r.Payload = watermark.ExportPayload(uint16(appliance), uint64(serial)).String()
	}
	if !r.DestructionVerified {
		r.DestroyedAt, r.DestructionReason = nil, ""
	}
	if r.UseAsOf == nil || r.Delivery != "online" {
		r.UseAsOf, r.FirstViewedAt, r.Downloads, r.Plays = nil, nil, nil, nil
	}
	return &r, nil
}

// Filter picks rows of the export ledger; a zero field does not filter.
type Filter struct {
	From, To  time.Time // filed on or after From, before To
	Agency    string    // the requesting agency, whatever its case
	Camera    string    // part of the camera's name or location
	State     string    // as Record.State
	Reason    string    // a reason code
	Requester string    // the requester's exact name (case and spacing folded), or part of the document number
	Sort      string    // one of Sorts; empty: SortNewest

	// DocumentOnly: Requester matches the document number only, for a
	// reader who sees names masked (inner/requester Shown).
	DocumentOnly bool
}

// The orders a ledger can be read in, each with the index that keeps its
// pages fast (inner/store migration 0008).
const (
	SortNewest        = "newest" // filed, newest first
	SortOldest        = "oldest"
	SortDecided       = "decided" // decided, newest first; undecided rows are left out
	SortDecidedOldest = "decided_oldest"
	maxFilterText     = 200
	MaxPage           = 500
	cursorVersion     = "1"
)

// Sorts lists the orders, for a form.
var Sorts = []string{SortNewest, SortOldest, SortDecided, SortDecidedOldest}

// ErrFilter reports a filter or cursor the ledger refuses.
var ErrFilter = errors.New("ledger: invalid filter")

// where builds the filter's SQL condition and its arguments. It names
// only the export (e) and its outbox row (o), so Count reads no more.
func (f *Filter) where(pii *account.PII) (string, []any, error) {
	if f.Sort == "" {
		f.Sort = SortNewest
	}
	if !slices.Contains(Sorts, f.Sort) {
		return "", nil, fmt.Errorf("%w: sort %q", ErrFilter, f.Sort)
	}
	var conds []string
	var args []any
	add := func(cond string, arg any) {
		args = append(args, arg)
		conds = append(conds, strings.ReplaceAll(cond, "$?", "$"+strconv.Itoa(len(args))))
	}
	for _, s := range []*string{&f.Agency, &f.Camera, &f.State, &f.Reason, &f.Requester} {
		*s = strings.TrimSpace(*s)
		if len(*s) > maxFilterText {
			return "", nil, fmt.Errorf("%w: a search term longer than %d bytes", ErrFilter, maxFilterText)
		}
	}
	if !f.From.IsZero() {
		add(`e.requested_at >= $?`, f.From)
	}
	if !f.To.IsZero() {
		add(`e.requested_at < $?`, f.To)
	}
	if f.Agency != "" {
		add(`lower(e.requester_agency) = lower($?)`, f.Agency)
	}
	if f.Camera != "" {
		add(`e.footage_id IN (SELECT f.id FROM footage f JOIN camera c ON c.id = f.camera_id
			WHERE strpos(lower(c.name), lower($?)) > 0 OR strpos(lower(c.location), lower($?)) > 0)`, f.Camera)
	}
	if f.State != "" {
		add(ShownStateSQL+` = $?`, f.State)
	}
	if f.Reason != "" {
		add(`e.reason_code = $?`, f.Reason)
	}
	if f.Requester != "" {
		cond, all, err := requesterCond(pii, f, args)
		if err != nil {
			return "", nil, err
		}
		conds, args = append(conds, cond), all
	}
	if f.Sort == SortDecided || f.Sort == SortDecidedOldest {
		conds = append(conds, `e.decided_at IS NOT NULL`)
	}
	if len(conds) == 0 {
		return "", nil, nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args, nil
}

// key is the sort's column and direction.
func (f *Filter) key() (col string, desc bool) {
	switch f.Sort {
	case SortOldest:
		return "e.requested_at", false
	case SortDecided:
		return "e.decided_at", true
	case SortDecidedOldest:
		return "e.decided_at", false
	}
	return "e.requested_at", true
}

// Page is one page of the ledger and the cursor of the next (empty on
// the last page).
type Page struct {
	Records []*Record
	Next    string
}

// Search returns up to limit rows that match f, from cursor on (empty: the
// first page). A cursor names the last row of a page by its sort key and
// id, so a page stays the same however many rows are filed meanwhile.
func (l *Ledger) Search(ctx context.Context, f Filter, cursor string, limit int) (*Page, error) {
	where, args, err := f.where(l.pii)
	if err != nil {
		return nil, err
	}
	limit = min(max(limit, 1), MaxPage)
	col, desc := f.key()
	cmp, dir := ">", "ASC"
	if desc {
		cmp, dir = "<", "DESC"
	}
	if cursor != "" {
		at, id, err := parseCursor(cursor, f.Sort)
		if err != nil {
			return nil, err
		}
		args = append(args, at, id)
		cond := fmt.Sprintf(`(%s, e.id) %s ($%d, $%d)`, col, cmp, len(args)-1, len(args))
		if where == "" {
			where = " WHERE " + cond
		} else {
			where += " AND " + cond
		}
	}
	args = append(args, limit+1)
	rows, err := l.pool.Query(ctx, `SELECT `+recordColumns+`, `+col+recordFrom+where+
		fmt.Sprintf(` ORDER BY %s %s, e.id %s LIMIT $%d`, col, dir, dir, len(args)), args...)
	if err != nil {
		return nil, fmt.Errorf("ledger: search: %w", err)
	}
	defer rows.Close()
	p := &Page{}
	var last time.Time
	for rows.Next() {
		if len(p.Records) == limit {
			p.Next = formatCursor(last, p.Records[limit-1].ExportID, f.Sort)
			break
		}
		r, err := l.scanRecord(keyed{rows, &last})
		if err != nil {
			return nil, fmt.Errorf("ledger: search: %w", err)
		}
		p.Records = append(p.Records, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("ledger: search: %w", err)
	}
	return p, nil
}

// keyed scans a row whose last column is its sort key into key.
type keyed struct {
	rows pgx.Rows
	key  *time.Time
}

func (k keyed) Scan(dest ...any) error { return k.rows.Scan(append(dest, k.key)...) }

// Count is how many rows match f, counting at most upTo of them (0: all)
// and saying whether there are more: a page says "more than 10,000"
// rather than count half a million rows each time it is shown.
func (l *Ledger) Count(ctx context.Context, f Filter, upTo int) (n int, more bool, err error) {
	where, args, err := f.where(l.pii)
	if err != nil {
		return 0, false, err
	}
	// The conditions name only the export and its outbox row; an outbox
	// the filter does not use is left out of the plan (a unique LEFT JOIN).
	q := `SELECT count(*) FROM export e LEFT JOIN outbox o ON o.id = e.outbox_id` + where
	if upTo > 0 {
		args = append(args, upTo+1)
		q = fmt.Sprintf(`SELECT count(*) FROM (SELECT 1 FROM export e LEFT JOIN outbox o ON o.id = e.outbox_id%s LIMIT $%d) s`, where, len(args))
	}
	if err := l.pool.QueryRow(ctx, q, args...).Scan(&n); err != nil {
		return 0, false, fmt.Errorf("ledger: count: %w", err)
	}
	if upTo > 0 && n > upTo {
		return upTo, true, nil
	}
	return n, false, nil
}

// Each calls fn with every row that matches f, in f's order, reading them
// as they come (a file of the whole ledger is written in constant memory).
func (l *Ledger) Each(ctx context.Context, f Filter, fn func(*Record) error) error {
	where, args, err := f.where(l.pii)
	if err != nil {
		return err
	}
	col, desc := f.key()
	dir := "ASC"
	if desc {
		dir = "DESC"
	}
	rows, err := l.pool.Query(ctx, `SELECT `+recordColumns+recordFrom+where+fmt.Sprintf(` ORDER BY %s %s, e.id %s`, col, dir, dir), args...)
	if err != nil {
		return fmt.Errorf("ledger: read: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		r, err := l.scanRecord(rows)
		if err != nil {
			return fmt.Errorf("ledger: read: %w", err)
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("ledger: read: %w", err)
	}
	return nil
}

// Record is export id's row.
func (l *Ledger) Record(ctx context.Context, id int64) (*Record, error) {
	r, err := l.scanRecord(l.pool.QueryRow(ctx, `SELECT `+recordColumns+recordFrom+` WHERE e.id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("%w: export %d", ErrNotFound, id)
	}
	if err != nil {
		return nil, fmt.Errorf("ledger: export %d: %w", id, err)
	}
	return r, nil
}

// Agencies lists the agencies that have filed requests, for the filter's
// suggestions: a walk of the agency index that visits each agency once
// (PostgreSQL has no skip scan), however many rows each has.
func (l *Ledger) Agencies(ctx context.Context, limit int) ([]string, error) {
	rows, err := l.pool.Query(ctx, `WITH RECURSIVE a(name) AS (
			(SELECT lower(requester_agency) FROM export ORDER BY 1 LIMIT 1)
			UNION ALL
			SELECT (SELECT lower(requester_agency) FROM export WHERE lower(requester_agency) > a.name ORDER BY 1 LIMIT 1) FROM a WHERE a.name IS NOT NULL)
		SELECT (SELECT requester_agency FROM export WHERE lower(requester_agency) = a.name ORDER BY requested_at DESC LIMIT 1)
		FROM a WHERE a.name IS NOT NULL LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("ledger: agencies: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

func formatCursor(at time.Time, id int64, sort string) string {
	s := cursorVersion + ":" + sort + ":" + strconv.FormatInt(at.UnixMicro(), 10) + ":" + strconv.FormatInt(id, 10)
	return base64.RawURLEncoding.EncodeToString([]byte(s))
}

// parseCursor reads a cursor made for the same sort.
func parseCursor(c, sort string) (time.Time, int64, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(b) > 100 {
		return time.Time{}, 0, fmt.Errorf("%w: cursor", ErrFilter)
	}
	parts := strings.Split(string(b), ":")
	if len(parts) != 4 || parts[0] != cursorVersion || parts[1] != sort {
		return time.Time{}, 0, fmt.Errorf("%w: the cursor is for another order", ErrFilter)
	}
	us, err1 := strconv.ParseInt(parts[2], 10, 64)
	id, err2 := strconv.ParseInt(parts[3], 10, 64)
	if err1 != nil || err2 != nil || id <= 0 {
		return time.Time{}, 0, fmt.Errorf("%w: cursor", ErrFilter)
	}
	return time.UnixMicro(us), id, nil
}
