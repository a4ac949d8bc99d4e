package export

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"sealgate/shared/audit"
)

// LeakReport is the render's leak check of a masked export (inner/mask's
// report, as kept with the export): frames of the output that may still
// show someone, for the approver to look at before release.
type LeakReport struct {
	FramesChecked int       `json:"frames_checked"`
	Width         int       `json:"width"` // of the rendered video, which the boxes are in
	Height        int       `json:"height"`
	Suspects      []Suspect `json:"suspects"`
}

// Suspect is one frame the leak check could not rule out, and where.
type Suspect struct {
	Frame  int    `json:"frame"`
	Reason string `json:"reason"` // face_detected, track_gap, cut_by_border
	X      int    `json:"x"`
	Y      int    `json:"y"`
	W      int    `json:"w"`
	H      int    `json:"h"`
}

// SetLeaks records the leak check of export id inside tx.
func (w *Workflow) SetLeaks(ctx context.Context, tx pgx.Tx, id int64, r *LeakReport) error {
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("export: leak report: %w", err)
	}
	_, err = tx.Exec(ctx, `UPDATE export SET leak_report = $2 WHERE id = $1`, id, b)
	return err
}

// Release lets a checked export be sealed: an approver who did not file
// it has looked at the masked preview and confirms each suspect frame of
// its leak check by index (all of them: one left is a refusal that names
// how many). An approver who finds a leak cancels the export instead.
func (w *Workflow) Release(ctx context.Context, a Actor, id int64, confirmed []int, why string) error {
	const action = "export.release"
	if err := w.allowed(ctx, a, approverRoles, action, exportTarget(id)); err != nil {
		return err
	}
	why = strings.TrimSpace(why)
	if es := text(nil, "decision_reason", why, false, 1000); es != nil {
		return es
	}
	return w.tx(ctx, func(tx pgx.Tx) error {
		var requestedBy, state string
		var raw []byte
		err := tx.QueryRow(ctx, `SELECT requested_by, state, leak_report FROM export WHERE id = $1 FOR UPDATE`, id).Scan(&requestedBy, &state, &raw)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return fmt.Errorf("%w: export %d", ErrNotFound, id)
		case err != nil:
			return fmt.Errorf("export: read %d: %w", id, err)
		case sameUser(requestedBy, a):
			return w.denied(ctx, a, action, exportTarget(id), fmt.Errorf("%w: %s filed export %d and may not release it", ErrForbidden, a.User, id))
		case state != Checking:
			return fmt.Errorf("%w: export %d is %s, not waiting for release", ErrState, id, state)
		}
		var rep LeakReport
		if raw != nil {
			if err := json.Unmarshal(raw, &rep); err != nil {
				return fmt.Errorf("export: leak report of %d: %w", id, err)
			}
		}
		left := 0
		for i := range rep.Suspects {
			if !slices.Contains(confirmed, i) {
				left++
			}
		}
		if left > 0 {
			return FieldErrors{{Field: "suspects", Problem: "unconfirmed", Arg: left}}
		}
		if _, err := tx.Exec(ctx, `UPDATE export SET released_by = $2, released_at = now() WHERE id = $1`, id, a.Audited()); err != nil {
			return fmt.Errorf("export: record the release of %d: %w", id, err)
		}
		reason := fmt.Sprintf("released after the leak check: %d frames checked, %d suspect frames confirmed", rep.FramesChecked, len(rep.Suspects))
		if why != "" {
			reason += "; " + why
		}
		if err := w.transition(ctx, tx, a, id, Checking, Sealing, reason); err != nil {
			return err
		}
		if err := w.record(ctx, tx, a, action, exportTarget(id), audit.OK, reason); err != nil {
			return err
		}
		if w.cfg.Start == nil {
			return errors.New("export: no pipeline to seal the released export on")
		}
		return w.cfg.Start(ctx, tx, id)
	})
}

// SendBack returns a checked export to the review editor: an approver who
// did not file it saw something the masking missed. open makes the review
// workspace (of the very video the export renders from, so the plan's
// frames are its frames) inside the transaction and returns its id; the
// export waits in reviewing until the plan is saved and it is rendered
// again ([Workflow.Rerender]). open must not write to the audit chain
// itself: the transaction holds its lock.
func (w *Workflow) SendBack(ctx context.Context, a Actor, id int64, why string, open func(e *Export) (string, error)) error {
	const action = "export.send_back"
	if err := w.allowed(ctx, a, approverRoles, action, exportTarget(id)); err != nil {
		return err
	}
	why = strings.TrimSpace(why)
	if es := text(nil, "decision_reason", why, true, 1000); es != nil {
		return es
	}
	e, err := w.Show(ctx, id)
	if err != nil {
		return err
	}
	if sameUser(e.RequestedBy, a) {
		return w.denied(ctx, a, action, exportTarget(id), fmt.Errorf("%w: %s filed export %d and may not decide its release", ErrForbidden, a.User, id))
	}
	return w.tx(ctx, func(tx pgx.Tx) error {
		// The state changes first, under the row's lock: two approvers
		// at once cannot both open a workspace for it.
		if err := w.transition(ctx, tx, a, id, Checking, Reviewing, why); err != nil {
			return err
		}
		rid, err := open(e)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE export SET review_id = $2 WHERE id = $1`, id, rid); err != nil {
			return fmt.Errorf("export: the review of %d: %w", id, err)
		}
		return w.record(ctx, tx, a, action, exportTarget(id), audit.OK, "review "+rid+": "+why)
	})
}

// Rerender renders an export sent back to review again, with its review's
// saved plan (the pipeline reads it); its leak check follows as before.
// The caller has checked that the plan is saved.
func (w *Workflow) Rerender(ctx context.Context, a Actor, id int64) error {
	if err := w.allowed(ctx, a, []string{"operator", "approver"}, "export.rerender", exportTarget(id)); err != nil {
		return err
	}
	return w.tx(ctx, func(tx pgx.Tx) error {
		if err := w.transition(ctx, tx, a, id, Reviewing, Rendering, "render again with the reviewed plan"); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE export_stage SET state = 'pending', progress = 0, fps = 0, error = '', finished_at = NULL
			WHERE export_id = $1 AND stage = 'render'`, id); err != nil {
			return fmt.Errorf("export: render %d again: %w", id, err)
		}
		if _, err := tx.Exec(ctx, `UPDATE export SET leak_report = NULL WHERE id = $1`, id); err != nil {
			return fmt.Errorf("export: render %d again: %w", id, err)
		}
		if w.cfg.Start == nil {
			return errors.New("export: no pipeline to render the export on")
		}
		return w.cfg.Start(ctx, tx, id)
	})
}
