package export

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"sealgate/shared/audit"
)

// Camera is one camera in the registry. A retired camera keeps its
// footage and exports; its name may be reused.
type Camera struct {
	ID           int64      `json:"id"`
	Name         string     `json:"name"`
	VMSID        string     `json:"vms_id"`
	Kind         string     `json:"kind"`
	Location     string     `json:"location"`
	Latitude     *float64   `json:"latitude,omitempty"`
	Longitude    *float64   `json:"longitude,omitempty"`
	RegisteredBy string     `json:"registered_by"`
	RegisteredAt time.Time  `json:"registered_at"`
	RetiredAt    *time.Time `json:"retired_at,omitempty"`
}

// CameraKinds are the registry's camera types.
var CameraKinds = []string{"fixed", "dome", "ptz", "bullet", "other"}

const cameraColumns = `id, name, vms_id, kind, location, latitude, longitude, registered_by, registered_at, retired_at`

func scanCamera(row pgx.Row) (*Camera, error) {
	var c Camera
	err := row.Scan(&c.ID, &c.Name, &c.VMSID, &c.Kind, &c.Location, &c.Latitude, &c.Longitude, &c.RegisteredBy, &c.RegisteredAt, &c.RetiredAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("%w: camera", ErrNotFound)
	}
	return &c, err
}

func (c *Camera) validate() error {
	c.Name, c.Location, c.VMSID = strings.TrimSpace(c.Name), strings.TrimSpace(c.Location), strings.TrimSpace(c.VMSID)
	if c.Kind == "" {
		c.Kind = "fixed"
	}
	var es FieldErrors
	es = text(es, "camera_name", c.Name, true, 100)
	es = text(es, "location", c.Location, true, 300)
	es = text(es, "vms_id", c.VMSID, false, 100)
	es = choice(es, "kind", c.Kind, CameraKinds)
	if (c.Latitude == nil) != (c.Longitude == nil) ||
		c.Latitude != nil && (*c.Latitude < -90 || *c.Latitude > 90 || *c.Longitude < -180 || *c.Longitude > 180) {
		es = append(es, &FieldError{Field: "latlong", Problem: "latlong"})
	}
	return es.orNil()
}

// AddCamera registers c for the actor and returns it with its id.
func (w *Workflow) AddCamera(ctx context.Context, a Actor, c Camera) (*Camera, error) {
	if err := w.allowed(ctx, a, camerasRoles, "camera.add", c.Name); err != nil {
		return nil, err
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	var out *Camera
	err := w.tx(ctx, func(tx pgx.Tx) error {
		var err error
		out, err = scanCamera(tx.QueryRow(ctx, `INSERT INTO camera (name, vms_id, kind, location, latitude, longitude, registered_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING `+cameraColumns, c.Name, c.VMSID, c.Kind, c.Location, c.Latitude, c.Longitude, a.Audited()))
		if err != nil {
			return nameTaken(err)
		}
		return w.record(ctx, tx, a, "camera.add", fmt.Sprintf("camera %d", out.ID), audit.OK, fmt.Sprintf("%s at %s", out.Name, out.Location))
	})
	return out, err
}

// EditCamera changes a camera in service.
func (w *Workflow) EditCamera(ctx context.Context, a Actor, c Camera) (*Camera, error) {
	if err := w.allowed(ctx, a, camerasRoles, "camera.edit", fmt.Sprint(c.ID)); err != nil {
		return nil, err
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	var out *Camera
	err := w.tx(ctx, func(tx pgx.Tx) error {
		var err error
		out, err = scanCamera(tx.QueryRow(ctx, `UPDATE camera SET name = $2, vms_id = $3, kind = $4, location = $5, latitude = $6, longitude = $7
			WHERE id = $1 AND retired_at IS NULL RETURNING `+cameraColumns, c.ID, c.Name, c.VMSID, c.Kind, c.Location, c.Latitude, c.Longitude))
		if err != nil {
			return nameTaken(err)
		}
		return w.record(ctx, tx, a, "camera.edit", fmt.Sprintf("camera %d", out.ID), audit.OK, fmt.Sprintf("%s at %s", out.Name, out.Location))
	})
	return out, err
}

// RetireCamera takes a camera out of service; its history stays.
func (w *Workflow) RetireCamera(ctx context.Context, a Actor, id int64) error {
	if err := w.allowed(ctx, a, camerasRoles, "camera.retire", fmt.Sprint(id)); err != nil {
		return err
	}
	return w.tx(ctx, func(tx pgx.Tx) error {
		if _, err := scanCamera(tx.QueryRow(ctx, `UPDATE camera SET retired_at = now() WHERE id = $1 AND retired_at IS NULL
			RETURNING `+cameraColumns, id)); err != nil {
			return err
		}
		return w.record(ctx, tx, a, "camera.retire", fmt.Sprintf("camera %d", id), audit.OK, "")
	})
}

// Camera returns one camera.
func (w *Workflow) Camera(ctx context.Context, id int64) (*Camera, error) {
	return scanCamera(w.pool.QueryRow(ctx, `SELECT `+cameraColumns+` FROM camera WHERE id = $1`, id))
}

// Cameras lists cameras by name; retired ones only when asked.
func (w *Workflow) Cameras(ctx context.Context, retired bool) ([]*Camera, error) {
	rows, err := w.pool.Query(ctx, `SELECT `+cameraColumns+` FROM camera WHERE $1 OR retired_at IS NULL ORDER BY lower(name), id`, retired)
	if err != nil {
		return nil, fmt.Errorf("export: list cameras: %w", err)
	}
	defer rows.Close()
	out := []*Camera{}
	for rows.Next() {
		c, err := scanCamera(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// CameraNameFree reports whether name is free among cameras in service
// (the form checks it as the operator types); except is a camera's own id.
func (w *Workflow) CameraNameFree(ctx context.Context, name string, except int64) (bool, error) {
	var taken bool
	err := w.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM camera WHERE lower(name) = lower($1) AND retired_at IS NULL AND id <> $2)`,
		strings.TrimSpace(name), except).Scan(&taken)
	return !taken, err
}

func nameTaken(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.ConstraintName == "camera_name" {
		return FieldErrors{{Field: "camera_name", Problem: "taken"}}
	}
	return err
}

// text checks a free-text field: present when required, at most max
// characters, no control characters (they would reach the ledger's
// spreadsheets and the hand-over slip).
func text(es FieldErrors, field, v string, required bool, max int) FieldErrors {
	switch {
	case v == "" && required:
		return append(es, &FieldError{Field: field, Problem: "required"})
	case utf8.RuneCountInString(v) > max:
		return append(es, &FieldError{Field: field, Problem: "too_long", Arg: max})
	case strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 && r != '\n' && r != '\t' || r == 0x7f }) || !utf8.ValidString(v):
		return append(es, &FieldError{Field: field, Problem: "control"})
	}
	return es
}

func choice(es FieldErrors, field, v string, choices []string) FieldErrors {
	for _, c := range choices {
		if v == c {
			return es
		}
	}
	if v == "" {
		return append(es, &FieldError{Field: field, Problem: "required"})
	}
	return append(es, &FieldError{Field: field, Problem: "choice", Arg: strings.Join(choices, ", ")})
}
