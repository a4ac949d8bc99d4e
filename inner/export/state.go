package export

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"sealgate/inner/ledger"
	"sealgate/shared/audit"
)

// The export's states on the inner side (docs/architecture.md, "The
// export's states"). Detection runs inside the render pass (one decode of
// the source), so it is a part of rendering, not a state of its own.
// After queued, what the outbox knows is shown: transferring, delivered.
const (
	Requested   = "requested"
	Approved    = "approved"
	Transcoding = "transcoding"
	Rendering   = "rendering"
	Checking    = "checking"  // rendered; waits for an approver to release it after the leak check
	Reviewing   = "reviewing" // sent back by the approver; its masking is corrected in the review editor
	Sealing     = "sealing"
	Queued      = "queued" // online: in the outbox for the paired outer
	Ready       = "ready"  // offline: the sealed file waits to be handed over
	Delivered   = "delivered"
	Rejected    = "rejected"
	Cancelled   = "cancelled"
	Failed      = "failed"
)

// transitions is the state machine, enforced here and nowhere else: every
// state change goes through [Workflow.transition].
var transitions = map[string][]string{
	Requested:   {Approved, Rejected, Cancelled},
	Approved:    {Transcoding, Cancelled, Failed},
	Transcoding: {Rendering, Cancelled, Failed},
	Rendering:   {Checking, Sealing, Failed},
	Checking:    {Sealing, Reviewing, Cancelled}, // released, sent back to review, or stopped
	Reviewing:   {Rendering, Cancelled},          // rendered again with the reviewed plan
	Sealing:     {Queued, Ready, Failed},
	Ready:       {Delivered},                       // handed over on media
	Failed:      {Transcoding, Rendering, Sealing}, // retried where it failed
}

// stageStates is the export's state while each stage runs.
var stageStates = map[string]string{"transcode": Transcoding, "render": Rendering, "seal": Sealing, "outbox": Sealing}

// StageState is the export's state while stage runs.
func StageState(stage string) string { return stageStates[stage] }

// openStatesSQL are the states in which an export still needs its
// original footage (a failed one may be retried).
const openStatesSQL = `('requested', 'approved', 'transcoding', 'rendering', 'checking', 'reviewing', 'sealing', 'failed')`

// Stages are the pipeline's stages in order; outbox is skipped for an
// offline export.
var Stages = []string{"transcode", "render", "seal", "outbox"}

// transition moves export id from one state to another inside tx, and
// records who, when and why in the export's history and the audit chain.
// A concurrent change (the state is no longer from) is ErrState.
func (w *Workflow) transition(ctx context.Context, tx pgx.Tx, a Actor, id int64, from, to, why string) error {
	if !slices.Contains(transitions[from], to) {
		return fmt.Errorf("%w: %s → %s", ErrState, from, to)
	}
	tag, err := tx.Exec(ctx, `UPDATE export SET state = $3, updated_at = now() WHERE id = $1 AND state = $2`, id, from, to)
	if err != nil {
		return fmt.Errorf("export: %s → %s: %w", from, to, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%w: export %d is no longer %s", ErrState, id, from)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO export_event (export_id, actor, from_state, to_state, reason) VALUES ($1, $2, $3, $4, $5)`,
		id, a.Audited(), from, to, why); err != nil {
		return fmt.Errorf("export: history of %d: %w", id, err)
	}
	if to == Reviewing || to == Cancelled {
		// The rendered copy, if there is one, will never leave.
		if err := w.withdraw(ctx, tx, a, id, why); err != nil {
			return err
		}
	}
	return w.record(ctx, tx, a, "export."+to, exportTarget(id), audit.OK, why)
}

// withdraw marks the ledger row of the copy export id rendered as
// withdrawn: a render after review takes a serial of its own.
func (w *Workflow) withdraw(ctx context.Context, tx pgx.Tx, a Actor, id int64, why string) error {
	var serial *int64
	if err := tx.QueryRow(ctx, `SELECT serial FROM export WHERE id = $1`, id).Scan(&serial); err != nil {
		return fmt.Errorf("export: the serial of %d: %w", id, err)
	}
	if serial == nil {
		return nil
	}
	return ledger.Withdraw(ctx, tx, w.audit, uint64(*serial), a.Audited(), fmt.Sprintf("%s (export %d)", why, id))
}

// Advance moves an export on from one state to the next for the actor
// (the pipeline, as "system"), inside tx.
func (w *Workflow) Advance(ctx context.Context, tx pgx.Tx, a Actor, id int64, from, to, why string) error {
	return w.transition(ctx, tx, a, id, from, to, why)
}

// Approve lets the export go: an approver who did not file it decides, and
// the pipeline's first stage is queued in the same transaction.
func (w *Workflow) Approve(ctx context.Context, a Actor, id int64, why string) error {
	return w.decide(ctx, a, id, Approved, why)
}

// Reject refuses the request with a reason.
func (w *Workflow) Reject(ctx context.Context, a Actor, id int64, why string) error {
	if strings.TrimSpace(why) == "" {
		return FieldErrors{{Field: "decision_reason", Problem: "required"}}
	}
	return w.decide(ctx, a, id, Rejected, why)
}

func (w *Workflow) decide(ctx context.Context, a Actor, id int64, to, why string) error {
	action := "export.approve"
	if to == Rejected {
		action = "export.reject"
	}
	if err := w.allowed(ctx, a, approverRoles, action, exportTarget(id)); err != nil {
		return err
	}
	why = strings.TrimSpace(why)
	if es := text(nil, "decision_reason", why, false, 1000); es != nil {
		return es
	}
	var requestedBy, state, delivery string
	var days int
	var viewingApproved bool
	err := w.pool.QueryRow(ctx, `SELECT requested_by, state, delivery, viewing_days, viewing_approved_by IS NOT NULL FROM export WHERE id = $1`,
		id).Scan(&requestedBy, &state, &delivery, &days, &viewingApproved)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%w: export %d", ErrNotFound, id)
	} else if err != nil {
		return fmt.Errorf("export: read %d: %w", id, err)
	}
	// Separation of duties: the same person, through the console or the
	// CLI, may not decide their own request.
	if sameUser(requestedBy, a) {
		return w.denied(ctx, a, action, exportTarget(id), fmt.Errorf("%w: %s filed export %d and may not decide it", ErrForbidden, a.User, id))
	}
	if state != Requested {
		return fmt.Errorf("%w: export %d is %s, not awaiting a decision", ErrState, id, state)
	}
	if to == Approved && days > MaxViewingDays && !viewingApproved {
		return w.denied(ctx, a, action, exportTarget(id), fmt.Errorf("%w: a viewing period of %d days needs an admin's approval first", ErrForbidden, days))
	}
	return w.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE export SET decided_by = $2, decided_at = now(), decision_reason = $3 WHERE id = $1`,
			id, a.Audited(), why); err != nil {
			return fmt.Errorf("export: record the decision: %w", err)
		}
		if err := w.transition(ctx, tx, a, id, Requested, to, why); err != nil {
			return err
		}
		if to != Approved {
			return nil
		}
		for i, s := range Stages {
			state := "pending"
			if s == "outbox" && delivery == "offline" {
				state = "skipped"
			}
			if _, err := tx.Exec(ctx, `INSERT INTO export_stage (export_id, stage, position, state) VALUES ($1, $2, $3, $4)`, id, s, i, state); err != nil {
				return fmt.Errorf("export: stages of %d: %w", id, err)
			}
		}
		if w.cfg.Start == nil {
			return errors.New("export: no pipeline to start the approved export on")
		}
		return w.cfg.Start(ctx, tx, id)
	})
}

// Cancel withdraws an export before it renders: its requester or an
// approver may.
func (w *Workflow) Cancel(ctx context.Context, a Actor, id int64, why string) error {
	if strings.TrimSpace(why) == "" {
		return FieldErrors{{Field: "decision_reason", Problem: "required"}}
	}
	var requestedBy, state string
	err := w.pool.QueryRow(ctx, `SELECT requested_by, state FROM export WHERE id = $1`, id).Scan(&requestedBy, &state)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%w: export %d", ErrNotFound, id)
	} else if err != nil {
		return fmt.Errorf("export: read %d: %w", id, err)
	}
	if !sameUser(requestedBy, a) {
		if err := w.allowed(ctx, a, approverRoles, "export.cancel", exportTarget(id)); err != nil {
			return err
		}
	}
	return w.tx(ctx, func(tx pgx.Tx) error { return w.transition(ctx, tx, a, id, state, Cancelled, why) })
}

// sameUser: recorded names carry cli: for the CLI, and the same person is
// the same whichever door they used.
func sameUser(recorded string, a Actor) bool {
	return strings.TrimPrefix(recorded, "cli:") == a.User
}
