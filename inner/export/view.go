package export

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"sealgate/inner/ledger"
	"sealgate/inner/requester"
)

// Export is one request and what became of it.
type Export struct {
	ID             int64  `json:"id"`
	Code           string `json:"code"` // EX-2026-000042, printed on the hand-over slip
	State          string `json:"state"`
	FootageID      int64  `json:"footage_id"`
	CameraID       int64  `json:"camera_id"`
	CameraName     string `json:"camera_name"`
	CameraLocation string `json:"camera_location"`
	ReasonCode     string `json:"reason_code"`
	Detail         string `json:"detail"`
	RequesterName  string `json:"requester_name"`
	Agency         string `json:"agency"`
	Phone          string `json:"phone,omitempty"`
	DocumentNo     string `json:"document_no"`
	Recipient      string `json:"recipient"`
	ViewingDays    int    `json:"viewing_days"`
	// ViewingApprovedBy is the admin who approved a viewing period longer
	// than MaxViewingDays, and why.
	ViewingApprovedBy string `json:"viewing_approved_by,omitempty"`
	ViewingReason     string `json:"viewing_reason,omitempty"`
	// Leaks is the render's leak check (masked exports); ReleasedBy the
	// approver who released the export after it.
	Leaks      *LeakReport `json:"leaks,omitempty"`
	ReleasedBy string      `json:"released_by,omitempty"`
	// ReviewID is the review workspace the export was sent back to; once
	// its plan is saved the export renders with it.
	ReviewID       string     `json:"review_id,omitempty"`
	FromS          float64    `json:"from_s"`
	ToS            *float64   `json:"to_s,omitempty"`
	Transcode      string     `json:"transcode"`
	Masked         bool       `json:"masked"`
	UnmaskedReason string     `json:"unmasked_reason,omitempty"`
	Delivery       string     `json:"delivery"`
	RequestedBy    string     `json:"requested_by"`
	RequestedAt    time.Time  `json:"requested_at"`
	DecidedBy      string     `json:"decided_by,omitempty"`
	DecidedAt      *time.Time `json:"decided_at,omitempty"`
	DecisionReason string     `json:"decision_reason,omitempty"`
	Serial         *int64     `json:"serial,omitempty"`
	MaskPlanSHA256 string     `json:"mask_plan_sha256,omitempty"`
	PackagePath    string     `json:"-"`
	PackageSHA256  string     `json:"package_sha256,omitempty"`
	OutboxID       *int64     `json:"outbox_id,omitempty"`
	DeliveredAt    *time.Time `json:"delivered_at,omitempty"`
	Receipt        string     `json:"receipt,omitempty"` // hex: the outer's signed receipt (transfer.VerifyReceipt)
	Error          string     `json:"error,omitempty"`
	UpdatedAt      time.Time  `json:"updated_at"`
	Stages         []Stage    `json:"stages"`
	History        []Event    `json:"history,omitempty"`
}

// Stage is one pipeline stage's state and progress.
type Stage struct {
	Stage      string     `json:"stage"`
	State      string     `json:"state"` // pending, running, done, skipped, failed
	Progress   float64    `json:"progress"`
	FPS        float64    `json:"fps,omitempty"`
	Attempts   int        `json:"attempts"`
	Error      string     `json:"error,omitempty"`
	StartedAt  *time.Time `json:"started_at,omitempty"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
}

// Event is one state change in an export's history.
type Event struct {
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	From   string    `json:"from"`
	To     string    `json:"to"`
	Reason string    `json:"reason,omitempty"`
}

// The outbox's states, as the export's: after queued the export is where
// its package is.
const exportColumns = `e.id, ` + ledger.ShownStateSQL + `,
	e.footage_id, c.id, c.name, c.location, e.reason_code, e.detail, e.requester_name_sealed, e.requester_agency, e.requester_phone_sealed, e.document_no,
	e.recipient, e.viewing_days, e.clip_from_s, e.clip_to_s, e.transcode, e.masked, e.unmasked_reason, e.delivery, e.requested_by,
	e.requested_at, coalesce(e.decided_by, ''), e.decided_at, e.decision_reason, e.serial, e.mask_plan_sha256, coalesce(e.package_path, ''),
	e.package_sha256, e.outbox_id, e.error, e.updated_at, coalesce(e.viewing_approved_by, ''), e.viewing_reason,
	e.leak_report, coalesce(e.released_by, ''), coalesce(e.review_id, ''), o.delivered_at, coalesce(encode(o.receipt, 'hex'), '')
	FROM export e JOIN footage f ON f.id = e.footage_id JOIN camera c ON c.id = f.camera_id LEFT JOIN outbox o ON o.id = e.outbox_id`

// scanExport reads a row of exportColumns, opening the requester's name
// and phone (inner/requester).
func (w *Workflow) scanExport(row pgx.Row) (*Export, error) {
	var e Export
	var plan, pkg, leaks, name, phone []byte
	err := row.Scan(&e.ID, &e.State, &e.FootageID, &e.CameraID, &e.CameraName, &e.CameraLocation, &e.ReasonCode, &e.Detail,
		&name, &e.Agency, &phone, &e.DocumentNo, &e.Recipient, &e.ViewingDays, &e.FromS, &e.ToS, &e.Transcode, &e.Masked,
		&e.UnmaskedReason, &e.Delivery, &e.RequestedBy, &e.RequestedAt, &e.DecidedBy, &e.DecidedAt, &e.DecisionReason, &e.Serial,
		&plan, &e.PackagePath, &pkg, &e.OutboxID, &e.Error, &e.UpdatedAt, &e.ViewingApprovedBy, &e.ViewingReason, &leaks, &e.ReleasedBy, &e.ReviewID,
		&e.DeliveredAt, &e.Receipt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("%w: export", ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("export: read: %w", err)
	}
	e.Code = requester.Code(e.ID, e.RequestedAt)
	if e.RequesterName, e.Phone, err = requester.Open(w.cfg.PII, e.ID, name, phone); err != nil {
		return nil, fmt.Errorf("export: read: %w", err)
	}
	if leaks != nil {
		e.Leaks = new(LeakReport)
		if err := json.Unmarshal(leaks, e.Leaks); err != nil {
			return nil, fmt.Errorf("export: leak report of %d: %w", e.ID, err)
		}
	}
	if plan != nil {
		e.MaskPlanSHA256 = hex.EncodeToString(plan)
	}
	if pkg != nil {
		e.PackageSHA256 = hex.EncodeToString(pkg)
	}
	e.Stages = []Stage{}
	return &e, nil
}

// Show returns one export with its stages and history.
func (w *Workflow) Show(ctx context.Context, id int64) (*Export, error) {
	e, err := w.scanExport(w.pool.QueryRow(ctx, `SELECT `+exportColumns+` WHERE e.id = $1`, id))
	if err != nil {
		return nil, err
	}
	if e.Stages, err = w.stages(ctx, id); err != nil {
		return nil, err
	}
	rows, err := w.pool.Query(ctx, `SELECT at, actor, from_state, to_state, reason FROM export_event WHERE export_id = $1 ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("export: history of %d: %w", id, err)
	}
	e.History, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Event, error) {
		var ev Event
		return ev, r.Scan(&ev.At, &ev.Actor, &ev.From, &ev.To, &ev.Reason)
	})
	return e, err
}

func (w *Workflow) stages(ctx context.Context, id int64) ([]Stage, error) {
	rows, err := w.pool.Query(ctx, `SELECT stage, state, progress, fps, attempts, error, started_at, finished_at FROM export_stage
		WHERE export_id = $1 ORDER BY position`, id)
	if err != nil {
		return nil, fmt.Errorf("export: stages of %d: %w", id, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Stage, error) {
		var s Stage
		var p, fps float32
		err := r.Scan(&s.Stage, &s.State, &p, &fps, &s.Attempts, &s.Error, &s.StartedAt, &s.FinishedAt)
		s.Progress, s.FPS = float64(p), float64(fps)
		return s, err
	})
}

// List returns exports newest first, each with its stages; state, when
// set, keeps only that state.
func (w *Workflow) List(ctx context.Context, state string, limit int) ([]*Export, error) {
	rows, err := w.pool.Query(ctx, `SELECT `+exportColumns+` WHERE $1 = '' OR e.state = $1 ORDER BY e.id DESC LIMIT $2`, state, limit)
	if err != nil {
		return nil, fmt.Errorf("export: list: %w", err)
	}
	es, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*Export, error) { return w.scanExport(r) })
	if err != nil {
		return nil, err
	}
	for _, e := range es {
		if e.Stages, err = w.stages(ctx, e.ID); err != nil {
			return nil, err
		}
	}
	return es, nil
}
