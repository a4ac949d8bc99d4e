package export

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"sealgate/shared/audit"
)

// viewRoles may watch an original: the operators who bring footage and the
// approvers who check what is asked for.
var viewRoles = []string{"operator", "approver"}

// ViewOriginal records that the actor watches original id, and why (trust
// rule 5: every view of original footage is on record), and returns it.
// An original past its retention is gone.
func (w *Workflow) ViewOriginal(ctx context.Context, a Actor, id int64, purpose string) (*Footage, error) {
	target := fmt.Sprintf("footage %d", id)
	if err := w.allowed(ctx, a, viewRoles, "footage.view", target); err != nil {
		return nil, err
	}
	purpose = strings.TrimSpace(purpose)
	if es := text(nil, "purpose", purpose, true, 500); len(es) > 0 {
		return nil, es
	}
	f, err := w.OneFootage(ctx, id)
	if err != nil {
		return nil, err
	}
	if f.DeletedAt != nil {
		return nil, fmt.Errorf("%w: footage %d was deleted at the end of its retention", ErrNotFound, id)
	}
	err = w.tx(ctx, func(tx pgx.Tx) error {
		return w.record(ctx, tx, a, "footage.view", target, audit.OK, fmt.Sprintf("%s (sha256:%s): %s", f.FileName, f.SHA256, purpose))
	})
	return f, err
}
