package export

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"sealgate/inner/mask/plan"
)

// Notify is the PostgreSQL channel told an export's id whenever its state
// or a stage's progress changes; the console's live pages listen on it
// (one database, any number of inner nodes).
const Notify = "sealgate_export"

// Lease is how long a stage's claim holds without a heartbeat. A worker
// beats every Lease/3 while it runs; a stage whose lease ran out belongs
// to a node that died, and may be run again.
const Lease = 30 * time.Second

// System is the actor of what the pipeline does by itself.
var System = Actor{User: "system", Via: "daemon"}

// ErrLeased: another live worker holds the stage.
var ErrLeased = errors.New("export: the stage is running on another worker")

// BeginStage claims a stage for a run: pending, failed or abandoned (its
// lease ran out) stages may be claimed; a stage already done reports done
// so a duplicate delivery of its job does nothing.
func (w *Workflow) BeginStage(ctx context.Context, id int64, stage string) (done bool, err error) {
	var state string
	err = w.pool.QueryRow(ctx, `UPDATE export_stage SET state = 'running', attempts = attempts + 1, started_at = now(),
		finished_at = NULL, error = '', progress = 0, fps = 0, lease_until = now() + $3::interval
		WHERE export_id = $1 AND stage = $2 AND (state IN ('pending', 'failed') OR state = 'running' AND lease_until < now())
		RETURNING state`, id, stage, Lease.String()).Scan(&state)
	if err == nil {
		w.notify(ctx, id)
		return false, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return false, fmt.Errorf("export: claim %s of %d: %w", stage, id, err)
	}
	if err := w.pool.QueryRow(ctx, `SELECT state FROM export_stage WHERE export_id = $1 AND stage = $2`, id, stage).Scan(&state); err != nil {
		return false, fmt.Errorf("export: stage %s of %d: %w", stage, id, err)
	}
	switch state {
	case "done", "skipped":
		return true, nil
	case "running":
		return false, ErrLeased
	}
	return false, fmt.Errorf("%w: stage %s of export %d is %s", ErrState, stage, id, state)
}

// ReleaseStage gives a running stage back when its node stops, so the
// next node to take the job runs it at once instead of waiting out the
// lease.
func (w *Workflow) ReleaseStage(ctx context.Context, id int64, stage string) error {
	_, err := w.pool.Exec(ctx, `UPDATE export_stage SET state = 'pending', lease_until = NULL, progress = 0, fps = 0
		WHERE export_id = $1 AND stage = $2 AND state = 'running'`, id, stage)
	if err != nil {
		return fmt.Errorf("export: release %s of %d: %w", stage, id, err)
	}
	return nil
}

// Abandoned is a running stage whose lease ran out.
type Abandoned struct {
	ExportID int64
	Stage    string
	Attempts int
}

// Abandoned lists the stages whose node stopped beating.
func (w *Workflow) Abandoned(ctx context.Context) ([]Abandoned, error) {
	rows, err := w.pool.Query(ctx, `SELECT export_id, stage, attempts FROM export_stage WHERE state = 'running' AND lease_until < now()`)
	if err != nil {
		return nil, fmt.Errorf("export: abandoned stages: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[Abandoned])
}

// ReleaseAbandoned gives an abandoned stage back inside tx; false when
// another node did first, or its worker came back to life.
func (w *Workflow) ReleaseAbandoned(ctx context.Context, tx pgx.Tx, id int64, stage string) (bool, error) {
	tag, err := tx.Exec(ctx, `UPDATE export_stage SET state = 'pending', lease_until = NULL
		WHERE export_id = $1 AND stage = $2 AND state = 'running' AND lease_until < now()`, id, stage)
	if err != nil {
		return false, fmt.Errorf("export: release %s of %d: %w", stage, id, err)
	}
	return tag.RowsAffected() == 1, nil
}

// Beat renews a running stage's lease and reports its progress (0…1) and
// speed.
func (w *Workflow) Beat(ctx context.Context, id int64, stage string, progress, fps float64) error {
	_, err := w.pool.Exec(ctx, `UPDATE export_stage SET progress = $3, fps = $4, lease_until = now() + $5::interval
		WHERE export_id = $1 AND stage = $2 AND state = 'running'`, id, stage, min(max(progress, 0), 1), fps, Lease.String())
	if err != nil {
		return fmt.Errorf("export: progress of %d: %w", id, err)
	}
	w.notify(ctx, id)
	return nil
}

// FinishStage marks a stage done (or skipped) inside tx, with the
// export's state change that goes with it.
func (w *Workflow) FinishStage(ctx context.Context, tx pgx.Tx, id int64, stage, state string) error {
	tag, err := tx.Exec(ctx, `UPDATE export_stage SET state = $3, progress = 1, finished_at = now(), lease_until = NULL
		WHERE export_id = $1 AND stage = $2 AND state IN ('running', 'pending')`, id, stage, state)
	if err != nil {
		return fmt.Errorf("export: finish %s of %d: %w", stage, id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%w: stage %s of export %d is not running", ErrState, stage, id)
	}
	_, err = tx.Exec(ctx, `SELECT pg_notify($1, $2)`, Notify, strconv.FormatInt(id, 10))
	return err
}

// FailStage records why a stage's attempt failed. When final (no retries
// left, or an error no retry can mend) the export fails with it, for the
// operator to read and retry.
func (w *Workflow) FailStage(ctx context.Context, id int64, stage string, cause error, final bool) error {
	msg := strings.ToValidUTF8(cause.Error(), "?")
	if len(msg) > 2000 {
		msg = msg[:2000]
	}
	return w.tx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE export_stage SET state = 'failed', error = $3, finished_at = now(), lease_until = NULL
			WHERE export_id = $1 AND stage = $2`, id, stage, msg); err != nil {
			return fmt.Errorf("export: record failure of %s of %d: %w", stage, id, err)
		}
		if _, err := tx.Exec(ctx, `UPDATE export SET error = $2, updated_at = now() WHERE id = $1`, id, stage+": "+msg); err != nil {
			return err
		}
		if !final {
			_, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, Notify, strconv.FormatInt(id, 10))
			return err
		}
		var state string
		if err := tx.QueryRow(ctx, `SELECT state FROM export WHERE id = $1 FOR UPDATE`, id).Scan(&state); err != nil {
			return err
		}
		return w.transition(ctx, tx, System, id, state, Failed, stage+": "+msg)
	})
}

// Retry sends a failed export back into the pipeline at the stage that
// failed; an operator or approver asks.
func (w *Workflow) Retry(ctx context.Context, a Actor, id int64) error {
	if err := w.allowed(ctx, a, []string{"operator", "approver"}, "export.retry", exportTarget(id)); err != nil {
		return err
	}
	return w.tx(ctx, func(tx pgx.Tx) error {
		var stage string
		err := tx.QueryRow(ctx, `SELECT stage FROM export_stage WHERE export_id = $1 AND state NOT IN ('done', 'skipped')
			ORDER BY position LIMIT 1`, id).Scan(&stage)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("%w: export %d has no stage left to retry", ErrState, id)
		} else if err != nil {
			return fmt.Errorf("export: stages of %d: %w", id, err)
		}
		if err := w.transition(ctx, tx, a, id, Failed, stageStates[stage], "retry from "+stage); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE export SET error = '' WHERE id = $1`, id); err != nil {
			return err
		}
		return w.cfg.Start(ctx, tx, id)
	})
}

func (w *Workflow) notify(ctx context.Context, id int64) {
	w.pool.Exec(ctx, `SELECT pg_notify($1, $2)`, Notify, strconv.FormatInt(id, 10)) // best effort: the page also reloads on its own
}

// Job is what the pipeline needs of an export: the request, the footage
// and the camera.
type Job struct {
	*Export
	Footage *Footage
}

// Job reads export id for the pipeline.
func (w *Workflow) Job(ctx context.Context, id int64) (*Job, error) {
	e, err := w.Show(ctx, id)
	if err != nil {
		return nil, err
	}
	f, err := w.OneFootage(ctx, e.FootageID)
	if err != nil {
		return nil, err
	}
	return &Job{Export: e, Footage: f}, nil
}

// SetSerial records the ledger serial the export's render took.
func (w *Workflow) SetSerial(ctx context.Context, id int64, serial uint64) error {
	_, err := w.pool.Exec(ctx, `UPDATE export SET serial = $2 WHERE id = $1`, id, int64(serial))
	return err
}

// SetRendered records the mask plan's hash inside tx, and what it masked
// (counts nil: the export was not masked).
func (w *Workflow) SetRendered(ctx context.Context, tx pgx.Tx, id int64, planSHA256 []byte, counts *plan.Counts) error {
	if counts == nil {
		_, err := tx.Exec(ctx, `UPDATE export SET mask_plan_sha256 = $2, masked_faces = NULL, masked_plates = NULL, masked_people = NULL,
			manual_tracks = NULL, excluded_tracks = NULL WHERE id = $1`, id, planSHA256)
		return err
	}
	_, err := tx.Exec(ctx, `UPDATE export SET mask_plan_sha256 = $2, masked_faces = $3, masked_plates = $4, masked_people = $5,
		manual_tracks = $6, excluded_tracks = $7 WHERE id = $1`,
		id, planSHA256, counts.Faces, counts.Plates, counts.People, counts.Manual, counts.Subjects+counts.NotSensitive)
	return err
}

// SetSealed records the sealed package inside tx.
func (w *Workflow) SetSealed(ctx context.Context, tx pgx.Tx, id int64, path string, sha256 []byte) error {
	_, err := tx.Exec(ctx, `UPDATE export SET package_path = $2, package_sha256 = $3 WHERE id = $1`, id, path, sha256)
	return err
}

// SetQueued records the outbox row carrying the package inside tx.
func (w *Workflow) SetQueued(ctx context.Context, tx pgx.Tx, id, outboxID int64) error {
	_, err := tx.Exec(ctx, `UPDATE export SET outbox_id = $2 WHERE id = $1`, id, outboxID)
	return err
}
