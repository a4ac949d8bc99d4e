package export

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"sealgate/inner/video"
	"sealgate/shared/audit"
)

// Footage is one ingested original. Its SHA-256 is the integrity
// reference: shown at ingest, kept in the ledger and the package manifest,
// and checked again before an export reads the file.
type Footage struct {
	ID          int64      `json:"id"`
	CameraID    int64      `json:"camera_id"`
	FileName    string     `json:"file_name"`
	Path        string     `json:"-"`
	Size        int64      `json:"size"`
	SHA256      string     `json:"sha256"`
	Container   string     `json:"container"`
	Codec       string     `json:"codec"`
	Width       int        `json:"width"`
	Height      int        `json:"height"`
	FPS         float64    `json:"fps"`
	Frames      int        `json:"frames"`
	DurationS   float64    `json:"duration_s"`
	StartedAt   *time.Time `json:"started_at,omitempty"`
	ImportedBy  string     `json:"imported_by"`
	ImportedAt  time.Time  `json:"imported_at"`
	RetainUntil time.Time  `json:"retain_until"`
	DeletedAt   *time.Time `json:"deleted_at,omitempty"`
}

const footageColumns = `id, camera_id, file_name, path, size, sha256, container, codec, width, height, fps, frames, duration_s,
	started_at, imported_by, imported_at, retain_until, deleted_at`

func scanFootage(row pgx.Row) (*Footage, error) {
	var f Footage
	var sum []byte
	err := row.Scan(&f.ID, &f.CameraID, &f.FileName, &f.Path, &f.Size, &sum, &f.Container, &f.Codec, &f.Width, &f.Height, &f.FPS,
		&f.Frames, &f.DurationS, &f.StartedAt, &f.ImportedBy, &f.ImportedAt, &f.RetainUntil, &f.DeletedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("%w: footage", ErrNotFound)
	}
	f.SHA256 = hex.EncodeToString(sum)
	return &f, err
}

// ErrTooLarge: an upload beyond the size cap; nothing of it is kept.
var ErrTooLarge = errors.New("export: the file is larger than the upload limit")

// ImportFile ingests a copy of the file at path (an NVR export, a file on
// removable media); the file itself is left alone.
func (w *Workflow) ImportFile(ctx context.Context, a Actor, cameraID int64, path string) (*Footage, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("export: %s is not a regular file", path)
	}
	return w.Ingest(ctx, a, cameraID, filepath.Base(path), f, fi.Size())
}

// Ingest streams r (at most limit bytes) into the footage directory while
// hashing it, probes what arrived, and records it for the camera. A file
// that is not video, or is truncated past reading, is refused and nothing
// of it stays: not the bytes, not a row.
func (w *Workflow) Ingest(ctx context.Context, a Actor, cameraID int64, name string, r io.Reader, limit int64) (*Footage, error) {
	if err := w.mayIngest(ctx, a, cameraID, name); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(w.cfg.FootageDir, 0o700); err != nil {
		return nil, fmt.Errorf("export: footage directory: %w", err)
	}
	tmp, err := os.CreateTemp(w.cfg.FootageDir, ".ingest-*")
	if err != nil {
		return nil, fmt.Errorf("export: footage directory: %w", err)
	}
	kept := false
	defer func() {
		if !kept {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("export: receiving %s: %w", name, err)
	}
	if n > limit {
		return nil, fmt.Errorf("%w (%d bytes)", ErrTooLarge, limit)
	}
	if n == 0 {
		return nil, fmt.Errorf("%w: %s is empty", video.ErrNotVideo, name)
	}
	if err := tmp.Sync(); err != nil {
		return nil, fmt.Errorf("export: writing %s: %w", name, err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("export: writing %s: %w", name, err)
	}
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	f, err := w.keep(ctx, a, cameraID, name, tmp.Name(), sum, n)
	kept = err == nil
	return f, err
}

// Adopt ingests a file already in the footage directory's file system (an
// upload the browser finished): hashed where it lies and moved into place,
// not copied; refused, it is removed.
func (w *Workflow) Adopt(ctx context.Context, a Actor, cameraID int64, name, path string) (*Footage, error) {
	if err := w.mayIngest(ctx, a, cameraID, name); err != nil {
		return nil, err
	}
	sum, err := HashFile(path)
	if err != nil {
		return nil, err
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Size() == 0 {
		os.Remove(path)
		return nil, fmt.Errorf("%w: %s is empty", video.ErrNotVideo, name)
	}
	f, err := w.keep(ctx, a, cameraID, name, path, sum, fi.Size())
	if err != nil {
		os.Remove(path)
	}
	return f, err
}

// keep probes the received file at tmp and, if it is video, moves it into
// the footage directory and records it. On error the caller removes tmp.
func (w *Workflow) keep(ctx context.Context, a Actor, cameraID int64, name, tmp string, sum [32]byte, n int64) (*Footage, error) {
	facts, err := probe(ctx, tmp)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if err := os.MkdirAll(w.cfg.FootageDir, 0o700); err != nil {
		return nil, fmt.Errorf("export: footage directory: %w", err)
	}
	final := filepath.Join(w.cfg.FootageDir, randomName()+strings.ToLower(filepath.Ext(filepath.Base(name))))
	if err := os.Rename(tmp, final); err != nil {
		return nil, fmt.Errorf("export: keeping %s: %w", name, err)
	}
	var out *Footage
	err = w.tx(ctx, func(tx pgx.Tx) error {
		var err error
		out, err = scanFootage(tx.QueryRow(ctx, `INSERT INTO footage (camera_id, file_name, path, size, sha256, container, codec, width, height,
			fps, frames, duration_s, started_at, imported_by, retain_until) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
			RETURNING `+footageColumns, cameraID, name, final, n, sum[:], facts.Container, facts.Codec, facts.Width, facts.Height,
			facts.FPS, facts.Frames, facts.DurationS, facts.StartedAt, a.Audited(), time.Now().Add(w.cfg.Retention)))
		if err != nil {
			return fmt.Errorf("export: record footage: %w", err)
		}
		return w.record(ctx, tx, a, "footage.import", fmt.Sprintf("footage %d", out.ID), audit.OK,
			fmt.Sprintf("%s for camera %d, %d bytes, SHA-256 %s", name, cameraID, n, out.SHA256))
	})
	if err != nil {
		os.Rename(final, tmp) // back, for the caller to remove
		return nil, err
	}
	return out, nil
}

// mayIngest: the actor may bring footage, for a camera in service.
func (w *Workflow) mayIngest(ctx context.Context, a Actor, cameraID int64, name string) error {
	if err := w.allowed(ctx, a, footageRoles, "footage.import", name); err != nil {
		return err
	}
	cam, err := w.Camera(ctx, cameraID)
	if err != nil {
		return err
	}
	if cam.RetiredAt != nil {
		return fmt.Errorf("%w: camera %d is retired", ErrState, cameraID)
	}
	return nil
}

// duration is the span from the first frame's start to the last frame's end.
func duration(info *video.Info) float64 {
	first, last := info.PTS[0], info.PTS[len(info.PTS)-1]
	d := info.Seconds(last - first)
	if info.FrameRate > 0 {
		d += 1 / info.FrameRate
	}
	return d
}

func randomName() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// OneFootage returns one ingested original.
func (w *Workflow) OneFootage(ctx context.Context, id int64) (*Footage, error) {
	return scanFootage(w.pool.QueryRow(ctx, `SELECT `+footageColumns+` FROM footage WHERE id = $1`, id))
}

// FootageOf lists a camera's footage, newest first (0: every camera's).
func (w *Workflow) FootageOf(ctx context.Context, cameraID int64) ([]*Footage, error) {
	rows, err := w.pool.Query(ctx, `SELECT `+footageColumns+` FROM footage WHERE $1 = 0 OR camera_id = $1 ORDER BY imported_at DESC, id DESC`, cameraID)
	if err != nil {
		return nil, fmt.Errorf("export: list footage: %w", err)
	}
	defer rows.Close()
	out := []*Footage{}
	for rows.Next() {
		f, err := scanFootage(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// VerifyOriginal re-hashes the original before an export reads it: a file
// changed on disk since ingest is not exported.
func VerifyOriginal(f *Footage) error {
	if f.DeletedAt != nil {
		return fmt.Errorf("%w: footage %d was deleted at the end of its retention", ErrState, f.ID)
	}
	sum, err := HashFile(f.Path)
	if err != nil {
		return err
	}
	if got := hex.EncodeToString(sum[:]); got != f.SHA256 {
		return fmt.Errorf("export: footage %d no longer matches its ingest hash (SHA-256 %s, ingested as %s): it was changed on disk", f.ID, got, f.SHA256)
	}
	return nil
}

// ExpireFootage deletes the originals whose retention has ended, except
// those an open export still needs, and records each deletion.
func (w *Workflow) ExpireFootage(ctx context.Context, now time.Time) (int, error) {
	rows, err := w.pool.Query(ctx, `SELECT `+footageColumns+` FROM footage f WHERE deleted_at IS NULL AND retain_until <= $1
		AND NOT EXISTS (SELECT 1 FROM export e WHERE e.footage_id = f.id AND e.state IN `+openStatesSQL+`)`, now)
	if err != nil {
		return 0, fmt.Errorf("export: footage past retention: %w", err)
	}
	due, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*Footage, error) { return scanFootage(r) })
	if err != nil {
		return 0, fmt.Errorf("export: footage past retention: %w", err)
	}
	system := Actor{User: "system", Via: "daemon"}
	n := 0
	for _, f := range due {
		if err := os.Remove(f.Path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return n, fmt.Errorf("export: delete footage %d: %w", f.ID, err)
		}
		err := w.tx(ctx, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `UPDATE footage SET deleted_at = now() WHERE id = $1`, f.ID); err != nil {
				return err
			}
			return w.record(ctx, tx, system, "footage.delete", fmt.Sprintf("footage %d", f.ID), audit.OK,
				fmt.Sprintf("retention ended %s; SHA-256 %s", f.RetainUntil.UTC().Format(time.RFC3339), f.SHA256))
		})
		if err != nil {
			return n, fmt.Errorf("export: record deletion of footage %d: %w", f.ID, err)
		}
		n++
	}
	return n, nil
}
