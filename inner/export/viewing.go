package export

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"sealgate/shared/audit"
)

// ApproveViewing is an admin's approval of a viewing period longer than
// MaxViewingDays, which the approver's decision then may grant. The admin
// may not have filed the request, and gives a reason.
func (w *Workflow) ApproveViewing(ctx context.Context, a Actor, id int64, why string) error {
	const action = "export.viewing.approve"
	if err := w.allowed(ctx, a, []string{"admin"}, action, exportTarget(id)); err != nil {
		return err
	}
	why = strings.TrimSpace(why)
	if es := text(nil, "decision_reason", why, true, 1000); es != nil {
		return es
	}
	return w.tx(ctx, func(tx pgx.Tx) error {
		var requestedBy, state string
		var days int
		var approved bool
		err := tx.QueryRow(ctx, `SELECT requested_by, state, viewing_days, viewing_approved_by IS NOT NULL FROM export WHERE id = $1 FOR UPDATE`,
			id).Scan(&requestedBy, &state, &days, &approved)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return fmt.Errorf("%w: export %d", ErrNotFound, id)
		case err != nil:
			return fmt.Errorf("export: read %d: %w", id, err)
		case sameUser(requestedBy, a):
			return w.denied(ctx, a, action, exportTarget(id), fmt.Errorf("%w: %s filed export %d and may not approve its viewing period", ErrForbidden, a.User, id))
		case state != Requested || approved:
			return fmt.Errorf("%w: export %d is %s and its viewing period is not awaiting approval", ErrState, id, state)
		case days <= MaxViewingDays:
			return fmt.Errorf("%w: export %d's viewing period of %d days needs no admin's approval", ErrState, id, days)
		}
		if _, err := tx.Exec(ctx, `UPDATE export SET viewing_approved_by = $2, viewing_approved_at = now(), viewing_reason = $3, updated_at = now()
			WHERE id = $1`, id, a.Audited(), why); err != nil {
			return fmt.Errorf("export: approve the viewing period of %d: %w", id, err)
		}
		return w.record(ctx, tx, a, action, exportTarget(id), audit.OK, fmt.Sprintf("%d days: %s", days, why))
	})
}
