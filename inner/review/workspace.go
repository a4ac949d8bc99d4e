package review

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"sealgate/inner/mask/plan"
	"sealgate/shared/pgdb"
)

//go:embed schema/*.sql
var schemaFiles embed.FS

// Schema holds the review_workspaces table, which this package owns.
var Schema = pgdb.Source{Schema: "review", FS: schemaFiles, Dir: "schema"}

// Workspace states.
const (
	Analysing = "analysing" // the detectors are reading the clip
	Ready     = "ready"     // a draft plan is there to review
	Failed    = "failed"    // the clip could not be analysed (Error says why)
)

// Workspace is one clip under review: the clip itself lives in the store's
// directory, everything else in its row.
type Workspace struct {
	ID           string
	Name         string // the uploaded file's name
	SourceSHA256 string // hex
	Detect       []string
	CreatedBy    string
	CreatedAt    time.Time
	State        string
	Error        string
	Progress     int  // percent of the analysis done
	Edited       bool // the draft has changes not saved
	SavedBy      string
	SavedAt      time.Time
	PlanSHA256   string // hex; empty until a plan is saved
}

// ErrNotFound: no workspace has the id.
var ErrNotFound = errors.New("review: no such workspace")

// ErrNotReady: the workspace's clip is not analysed (yet, or it failed).
var ErrNotReady = errors.New("review: the clip is not analysed")

// ErrBusy: the workspace is being analysed and cannot be deleted.
var ErrBusy = errors.New("review: the clip is being analysed")

var idPattern = regexp.MustCompile(`^[0-9a-f]{16}$`)

// Workspaces keeps review workspaces: rows in review_workspaces, clips in
// dir/<id>/source. Several inner nodes may share one database and one dir.
type Workspaces struct {
	pool *pgxpool.Pool
	dir  string

	// Parsed drafts by id, valid while the row's draft_version is the one
	// cached: the editor asks for boxes many times a second while the
	// reviewer scrubs, and a long clip's draft is megabytes of JSON.
	mu     sync.Mutex
	drafts map[string]cachedDraft
}

type cachedDraft struct {
	version int
	plan    *plan.Plan
}

// NewWorkspaces keeps workspaces in pool, clips under dir.
func NewWorkspaces(pool *pgxpool.Pool, dir string) (*Workspaces, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("review: %w", err)
	}
	return &Workspaces{pool: pool, dir: dir, drafts: map[string]cachedDraft{}}, nil
}

// NewID is a fresh workspace id.
func NewID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Dir is where workspace id keeps its clip; the caller creates it.
func (ws *Workspaces) Dir(id string) string { return filepath.Join(ws.dir, id) }

// Source is the path of workspace id's clip.
func (ws *Workspaces) Source(id string) string { return filepath.Join(ws.dir, id, "source") }

const columns = `id, name, source_sha256, detect, created_by, created_at, state, error, progress, edited, saved_by, saved_at, plan_sha256`

func scan(row pgx.Row) (*Workspace, error) {
	var (
		w            Workspace
		source, plan []byte
		savedAt      *time.Time
	)
	if err := row.Scan(&w.ID, &w.Name, &source, &w.Detect, &w.CreatedBy, &w.CreatedAt, &w.State, &w.Error, &w.Progress,
		&w.Edited, &w.SavedBy, &savedAt, &plan); err != nil {
		return nil, err
	}
	w.SourceSHA256, w.PlanSHA256 = hex.EncodeToString(source), hex.EncodeToString(plan)
	if savedAt != nil {
		w.SavedAt = *savedAt
	}
	return &w, nil
}

// Add records a new workspace, to be analysed, for a clip already at
// Source(w.ID).
func (ws *Workspaces) Add(ctx context.Context, w *Workspace) error {
	sum, err := hex.DecodeString(w.SourceSHA256)
	if err != nil || len(sum) != sha256.Size || !idPattern.MatchString(w.ID) {
		return fmt.Errorf("review: workspace %q: bad id or SHA-256", w.ID)
	}
	row := ws.pool.QueryRow(ctx, `INSERT INTO review_workspaces (id, name, source_sha256, detect, created_by)
		VALUES ($1, $2, $3, $4, $5) RETURNING `+columns, w.ID, w.Name, sum, w.Detect, w.CreatedBy)
	got, err := scan(row)
	if err != nil {
		return fmt.Errorf("review: add workspace: %w", err)
	}
	*w = *got
	return nil
}

// Get is workspace id.
func (ws *Workspaces) Get(ctx context.Context, id string) (*Workspace, error) {
	if !idPattern.MatchString(id) {
		return nil, fmt.Errorf("%w: %q", ErrNotFound, id)
	}
	w, err := scan(ws.pool.QueryRow(ctx, `SELECT `+columns+` FROM review_workspaces WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if err != nil {
		return nil, fmt.Errorf("review: workspace %s: %w", id, err)
	}
	return w, nil
}

// Ready is workspace id if its analysis is done.
func (ws *Workspaces) Ready(ctx context.Context, id string) (*Workspace, error) {
	w, err := ws.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if w.State != Ready {
		return nil, fmt.Errorf("%w: %s is %s", ErrNotReady, id, w.State)
	}
	return w, nil
}

// List is every workspace, newest first.
func (ws *Workspaces) List(ctx context.Context) ([]*Workspace, error) {
	rows, err := ws.pool.Query(ctx, `SELECT `+columns+` FROM review_workspaces ORDER BY created_at DESC, id`)
	if err != nil {
		return nil, fmt.Errorf("review: list workspaces: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*Workspace, error) { return scan(r) })
	if err != nil {
		return nil, fmt.Errorf("review: list workspaces: %w", err)
	}
	return out, nil
}

// Delete removes workspace id and its copy of the clip; one being analysed
// is refused with ErrBusy.
func (ws *Workspaces) Delete(ctx context.Context, id string) (*Workspace, error) {
	w, err := scan(ws.pool.QueryRow(ctx, `DELETE FROM review_workspaces WHERE id = $1 AND state <> 'analysing' RETURNING `+columns, id))
	if errors.Is(err, pgx.ErrNoRows) {
		if _, gerr := ws.Get(ctx, id); gerr != nil {
			return nil, gerr
		}
		return nil, fmt.Errorf("%w: %s", ErrBusy, id)
	}
	if err != nil {
		return nil, fmt.Errorf("review: delete workspace %s: %w", id, err)
	}
	ws.forget(id)
	if err := os.RemoveAll(ws.Dir(id)); err != nil {
		return w, fmt.Errorf("review: remove the clip of %s: %w", id, err)
	}
	return w, nil
}

func (ws *Workspaces) forget(id string) {
	ws.mu.Lock()
	delete(ws.drafts, id)
	ws.mu.Unlock()
}

// Draft is the working copy of workspace id's plan. The caller must not
// change it: edits go through Edit.
func (ws *Workspaces) Draft(ctx context.Context, id string) (*plan.Plan, error) {
	var version int
	err := ws.pool.QueryRow(ctx, `SELECT draft_version FROM review_workspaces WHERE id = $1 AND state = 'ready'`, id).Scan(&version)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("%w: %s", ErrNotReady, id)
	}
	if err != nil {
		return nil, fmt.Errorf("review: draft of %s: %w", id, err)
	}
	if p := ws.cached(id, version); p != nil {
		return p, nil
	}
	var b []byte
	err = ws.pool.QueryRow(ctx, `SELECT draft, draft_version FROM review_workspaces WHERE id = $1 AND state = 'ready'`, id).Scan(&b, &version)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("%w: %s", ErrNotReady, id)
	}
	if err != nil {
		return nil, fmt.Errorf("review: draft of %s: %w", id, err)
	}
	return ws.parse(id, version, b)
}

func (ws *Workspaces) cached(id string, version int) *plan.Plan {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if d, ok := ws.drafts[id]; ok && d.version == version {
		return d.plan
	}
	return nil
}

func (ws *Workspaces) parse(id string, version int, b []byte) (*plan.Plan, error) {
	p, err := plan.Parse(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("review: draft of %s: %w", id, err)
	}
	ws.mu.Lock()
	ws.drafts[id] = cachedDraft{version, p}
	ws.mu.Unlock()
	return p, nil
}

// Edit changes workspace id's draft with fn, on a copy: the draft is stored
// only if fn succeeds and the result validates. Edits of one workspace are
// serialised across nodes by the row's lock.
func (ws *Workspaces) Edit(ctx context.Context, id string, fn func(*plan.Plan) error) error {
	var (
		next    *plan.Plan
		version int
	)
	err := pgx.BeginFunc(ctx, ws.pool, func(tx pgx.Tx) error {
		var b []byte
		err := tx.QueryRow(ctx, `SELECT draft_version FROM review_workspaces WHERE id = $1 AND state = 'ready' FOR UPDATE`, id).Scan(&version)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("%w: %s", ErrNotReady, id)
		}
		if err != nil {
			return fmt.Errorf("review: edit %s: %w", id, err)
		}
		p := ws.cached(id, version)
		if p == nil {
			if err := tx.QueryRow(ctx, `SELECT draft FROM review_workspaces WHERE id = $1`, id).Scan(&b); err != nil {
				return fmt.Errorf("review: edit %s: %w", id, err)
			}
			if p, err = ws.parse(id, version, b); err != nil {
				return err
			}
		}
		next = p.Clone()
		if err := fn(next); err != nil {
			return err
		}
		if err := next.Validate(); err != nil {
			return fmt.Errorf("review: the edit leaves a bad plan: %w", err)
		}
		if b, err = next.Encode(); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE review_workspaces SET draft = $2, draft_version = $3, edited = true WHERE id = $1`,
			id, b, version+1); err != nil {
			return fmt.Errorf("review: store the draft of %s: %w", id, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	ws.mu.Lock() // once committed: the version is the row's
	ws.drafts[id] = cachedDraft{version + 1, next}
	ws.mu.Unlock()
	return nil
}

// Saved is what Save records.
type Saved struct {
	SHA256 string // hex, of the plan's encoding
	Counts plan.Counts
}

// Save makes workspace id's draft its plan. record is called, inside the
// row's lock, with what is about to be saved; if it fails nothing is saved
// (a plan that is not on record is not saved).
func (ws *Workspaces) Save(ctx context.Context, id, by string, record func(context.Context, Saved) error) (Saved, error) {
	var s Saved
	err := pgx.BeginFunc(ctx, ws.pool, func(tx pgx.Tx) error {
		var b []byte
		err := tx.QueryRow(ctx, `SELECT draft FROM review_workspaces WHERE id = $1 AND state = 'ready' FOR UPDATE`, id).Scan(&b)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("%w: %s", ErrNotReady, id)
		}
		if err != nil {
			return fmt.Errorf("review: save %s: %w", id, err)
		}
		p, err := plan.Parse(bytes.NewReader(b))
		if err != nil {
			return fmt.Errorf("review: draft of %s: %w", id, err)
		}
		if b, err = p.Encode(); err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		s = Saved{SHA256: hex.EncodeToString(sum[:]), Counts: p.Count()}
		if err := record(ctx, s); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE review_workspaces SET plan = $2, plan_sha256 = $3, saved_by = $4, saved_at = now(), edited = false
			WHERE id = $1`, id, b, sum[:], by)
		if err != nil {
			return fmt.Errorf("review: save %s: %w", id, err)
		}
		return nil
	})
	return s, err
}

// Plan is workspace id's saved plan (what an export renders with).
func (ws *Workspaces) Plan(ctx context.Context, id string) ([]byte, error) {
	var b []byte
	err := ws.pool.QueryRow(ctx, `SELECT plan FROM review_workspaces WHERE id = $1 AND plan IS NOT NULL`, id).Scan(&b)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("%w: %s has no saved plan", ErrNotFound, id)
	}
	if err != nil {
		return nil, fmt.Errorf("review: plan of %s: %w", id, err)
	}
	return b, nil
}
