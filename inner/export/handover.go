package export

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// handOverRoles may hand an offline export over: the operators at the
// desk and the approvers who released it.
var handOverRoles = []string{"operator", "approver"}

// HandOver gives an offline export to the officer once: take copies the
// sealed file out (to removable media) and returns the hand-over password
// it consumed; the export is then delivered, on record with who did it and
// where the file went. A second hand-over is refused: the password exists
// once.
func (w *Workflow) HandOver(ctx context.Context, a Actor, id int64, take func(e *Export) (string, error)) (*Export, string, error) {
	if err := w.allowed(ctx, a, handOverRoles, "export.handover", exportTarget(id)); err != nil {
		return nil, "", err
	}
	e, err := w.Show(ctx, id)
	if err != nil {
		return nil, "", err
	}
	if e.State != Ready || e.Delivery != "offline" {
		return nil, "", fmt.Errorf("%w: export %d is %s, not an offline export ready to hand over", ErrState, id, e.State)
	}
	var password string
	err = w.tx(ctx, func(tx pgx.Tx) error {
		// The state changes first, under the row's lock, so two hand-overs
		// at once cannot both take the password.
		if err := w.transition(ctx, tx, a, id, Ready, Delivered, "handed over offline to "+e.Recipient); err != nil {
			return err
		}
		var err error
		password, err = take(e)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	return e, password, nil
}

// HandedOver is where the sealed packages of offline exports delivered
// before cutoff were kept (they may already be gone).
func (w *Workflow) HandedOver(ctx context.Context, cutoff time.Time) ([]string, error) {
	rows, err := w.pool.Query(ctx, `SELECT package_path FROM export
		WHERE state = 'delivered' AND delivery = 'offline' AND package_path <> '' AND updated_at < $1`, cutoff)
	if err != nil {
		return nil, fmt.Errorf("export: handed-over packages: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// Cancelled are the ids of cancelled exports.
func (w *Workflow) Cancelled(ctx context.Context) ([]int64, error) {
	rows, err := w.pool.Query(ctx, `SELECT id FROM export WHERE state = 'cancelled'`)
	if err != nil {
		return nil, fmt.Errorf("export: cancelled exports: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}
