package review

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"sealgate/inner/child"
	"sealgate/inner/mask/plan"
)

// Analysis bounds. A node holds a lease on the workspace it analyses and
// renews it while the child runs; a node that dies lets the lease run out
// and another takes the clip up again.
const (
	analysisTimeout = 3 * time.Hour
	leaseTime       = time.Minute
	renewEvery      = 5 * time.Second
	pollEvery       = 10 * time.Second
)

// Analyser runs the detectors over clips waiting in their workspaces, one
// at a time (an analysis takes both cores), each in a child
// `sealgate-inner mask` (analysis only), and makes its plan the first draft.
// It is a daemon component: Run until the daemon stops.
type Analyser struct {
	ws   *Workspaces
	log  *slog.Logger
	wake chan struct{}
}

// NewAnalyser analyses ws's waiting workspaces.
func NewAnalyser(ws *Workspaces, log *slog.Logger) *Analyser {
	return &Analyser{ws: ws, log: log, wake: make(chan struct{}, 1)}
}

// Wake tells the analyser a workspace was added, so it need not wait for
// its next look.
func (a *Analyser) Wake() {
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

// Run analyses waiting clips until ctx ends. A clip whose analysis the
// daemon's stop cut short is analysed again at the next start, here or on
// another node.
func (a *Analyser) Run(ctx context.Context) error {
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	for {
		for {
			w, err := a.ws.claim(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				a.log.Error("review analysis: finding work", slog.Any("error", err))
				break
			}
			if w == nil {
				break
			}
			a.analyse(ctx, w)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-a.wake:
		case <-tick.C:
		}
	}
}

func (a *Analyser) analyse(ctx context.Context, w *Workspace) {
	log := a.log.With(slog.String("review", w.ID))
	var progress atomic.Int32
	actx, cancel := context.WithTimeout(ctx, analysisTimeout)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() { a.renew(actx, w.ID, &progress) })
	auto, err := a.run(actx, w, &progress)
	cancel()
	wg.Wait()

	// What follows is recorded even as the daemon stops.
	rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer rcancel()
	if ctx.Err() != nil { // stopping: leave it to the next start
		if rerr := a.ws.release(rctx, w.ID); rerr != nil {
			log.Warn("review analysis: release", slog.Any("error", rerr))
		}
		return
	}
	if ferr := a.ws.finish(rctx, w.ID, auto, err); ferr != nil {
		log.Error("review analysis: record the result", slog.Any("error", ferr), slog.Any("analysis_error", err))
		return
	}
	if err != nil {
		log.Warn("review analysis failed", slog.Any("error", err))
	}
}

// renew keeps the lease and records the progress until ctx ends.
func (a *Analyser) renew(ctx context.Context, id string, progress *atomic.Int32) {
	tick := time.NewTicker(renewEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if err := a.ws.renew(ctx, id, int(progress.Load())); err != nil && ctx.Err() == nil {
				a.log.Warn("review analysis: renew the lease", slog.String("review", id), slog.Any("error", err))
			}
		}
	}
}

// run is the child's analysis of w's clip: the plan it wrote. The child
// reads the clip through its descriptor and writes the plan in a work
// directory of its own inside the workspace; the plan is read back within
// a plan's size limit.
func (a *Analyser) run(ctx context.Context, w *Workspace, progress *atomic.Int32) ([]byte, error) {
	j, err := child.NewJob()
	if err != nil {
		return nil, err
	}
	defer j.Close()
	in, err := j.Input(a.ws.Source(w.ID))
	if err != nil {
		return nil, err
	}
	work, err := j.WorkDir(a.ws.Dir(w.ID))
	if err != nil {
		return nil, err
	}
	_, err = j.Run(ctx, child.Options{Line: func(line []byte) bool {
		var p struct{ Frame, Frames int }
		if json.Unmarshal(line, &p) != nil || p.Frames <= 0 {
			return false
		}
		progress.Store(int32(min(100, 100*p.Frame/p.Frames)))
		return true
	}}, "mask", "--in", in, "--plan-out", work+"/auto.json", "--detect", strings.Join(w.Detect, ","), "--progress", "--json")
	if err != nil {
		return nil, err
	}
	b, err := j.ReadFile("auto.json", plan.MaxBytes)
	if err != nil {
		return nil, fmt.Errorf("review: the analysis's plan: %w", err)
	}
	if _, err := plan.Parse(bytes.NewReader(b)); err != nil {
		return nil, fmt.Errorf("review: the analysis's plan: %w", err)
	}
	return b, nil
}

// claim takes the oldest workspace waiting for analysis that no live node
// holds, or returns nil.
func (ws *Workspaces) claim(ctx context.Context) (*Workspace, error) {
	w, err := scan(ws.pool.QueryRow(ctx, `UPDATE review_workspaces SET lease_until = now() + $1::interval
		WHERE id = (SELECT id FROM review_workspaces WHERE state = 'analysing' AND (lease_until IS NULL OR lease_until < now())
			ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED)
		RETURNING `+columns, leaseTime.String()))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("review: claim a clip to analyse: %w", err)
	}
	return w, nil
}

func (ws *Workspaces) renew(ctx context.Context, id string, progress int) error {
	_, err := ws.pool.Exec(ctx, `UPDATE review_workspaces SET lease_until = now() + $2::interval, progress = $3
		WHERE id = $1 AND state = 'analysing'`, id, leaseTime.String(), min(max(progress, 0), 100))
	return err
}

func (ws *Workspaces) release(ctx context.Context, id string) error {
	_, err := ws.pool.Exec(ctx, `UPDATE review_workspaces SET lease_until = NULL WHERE id = $1 AND state = 'analysing'`, id)
	return err
}

// finish records an analysis: its plan becomes the first draft, or its
// failure the workspace's error.
func (ws *Workspaces) finish(ctx context.Context, id string, auto []byte, failure error) error {
	var err error
	if failure != nil {
		_, err = ws.pool.Exec(ctx, `UPDATE review_workspaces SET state = 'failed', error = $2, lease_until = NULL
			WHERE id = $1 AND state = 'analysing'`, id, failure.Error())
	} else {
		_, err = ws.pool.Exec(ctx, `UPDATE review_workspaces SET state = 'ready', draft = $2, progress = 100, lease_until = NULL
			WHERE id = $1 AND state = 'analysing'`, id, auto)
	}
	if err != nil {
		return fmt.Errorf("review: record the analysis of %s: %w", id, err)
	}
	return nil
}
