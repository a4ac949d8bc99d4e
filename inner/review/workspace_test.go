package review

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"sealgate/inner/mask/plan"
	"sealgate/shared/pgdb"
	"sealgate/shared/pgdb/pgtest"
)

func newWorkspaces(t *testing.T) *Workspaces {
	t.Helper()
	pool := pgtest.NewPool(t, pgdb.MustMigrations(Schema))
	ws, err := NewWorkspaces(pool, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return ws
}

// add records a workspace with a clip file beside it.
func add(t *testing.T, ws *Workspaces) *Workspace {
	t.Helper()
	w := &Workspace{ID: NewID(), Name: "cam 3.mp4", SourceSHA256: strings.Repeat("ab", 32), Detect: []string{"faces"}, CreatedBy: "kim"}
	if err := os.Mkdir(ws.Dir(w.ID), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ws.Source(w.ID), []byte("not a video"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := ws.Add(context.Background(), w); err != nil {
		t.Fatal(err)
	}
	return w
}

const autoPlan = `{"version":1,"width":1280,"height":720,"frames":100,"style":"mosaic","margin":0.2,
"tracks":[{"id":1,"kind":"face","source":"auto","boxes":[{"f":0,"x":10,"y":10,"w":40,"h":40,"by":"detector"}]}]}`

func TestWorkspaceLifecycle(t *testing.T) {
	ctx := context.Background()
	ws := newWorkspaces(t)
	w := add(t, ws)
	if w.State != Analysing || w.CreatedAt.IsZero() {
		t.Fatalf("a new workspace: %+v", w)
	}
	if _, err := ws.Draft(ctx, w.ID); !errors.Is(err, ErrNotReady) {
		t.Fatalf("draft before analysis: %v, want ErrNotReady", err)
	}
	if _, err := ws.Delete(ctx, w.ID); !errors.Is(err, ErrBusy) {
		t.Fatalf("delete while analysing: %v, want ErrBusy", err)
	}
	for _, id := range []string{"0123456789abcdef", "../../etc/passwd", ""} {
		if _, err := ws.Get(ctx, id); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get(%q): %v, want ErrNotFound", id, err)
		}
	}

	c, err := ws.claim(ctx)
	if err != nil || c == nil || c.ID != w.ID {
		t.Fatalf("claim: %v, %v", c, err)
	}
	if again, err := ws.claim(ctx); again != nil || err != nil {
		t.Fatalf("a leased workspace was claimed again: %v, %v", again, err)
	}
	if err := ws.finish(ctx, w.ID, []byte(autoPlan), nil); err != nil {
		t.Fatal(err)
	}
	p, err := ws.Draft(ctx, w.ID)
	if err != nil || len(p.Tracks) != 1 {
		t.Fatalf("draft after analysis: %v, %v", p, err)
	}

	// An edit is stored whole or not at all, and marks the draft edited.
	boom := errors.New("boom")
	if err := ws.Edit(ctx, w.ID, func(p *plan.Plan) error { p.Tracks = nil; return boom }); !errors.Is(err, boom) {
		t.Fatalf("failed edit: %v", err)
	}
	if p, _ := ws.Draft(ctx, w.ID); len(p.Tracks) != 1 {
		t.Fatalf("a failed edit changed the draft: %d tracks", len(p.Tracks))
	}
	if err := ws.Edit(ctx, w.ID, func(p *plan.Plan) error { return p.Exclude(1, plan.ReasonSubject) }); err != nil {
		t.Fatal(err)
	}
	if err := ws.Edit(ctx, w.ID, func(p *plan.Plan) error { return p.Delete(1) }); !errors.Is(err, plan.ErrNotManual) {
		t.Fatalf("deleting a detection: %v, want ErrNotManual", err)
	}
	// Another node's cache sees the edit: the version moved.
	other, err := NewWorkspaces(ws.pool, ws.dir)
	if err != nil {
		t.Fatal(err)
	}
	if p, err := other.Draft(ctx, w.ID); err != nil || !p.Tracks[0].Excluded {
		t.Fatalf("the other node's draft: %+v, %v", p, err)
	}
	if err := other.Edit(ctx, w.ID, func(p *plan.Plan) error { return p.Include(1) }); err != nil {
		t.Fatal(err)
	}
	if p, _ := ws.Draft(ctx, w.ID); p.Tracks[0].Excluded {
		t.Fatal("this node still serves its cached draft after another node's edit")
	}
	if got, _ := ws.Get(ctx, w.ID); !got.Edited {
		t.Fatal("the draft is not marked edited")
	}

	// A save that cannot be put on record saves nothing.
	if _, err := ws.Save(ctx, w.ID, "kim", func(context.Context, Saved) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("save: %v", err)
	}
	if _, err := ws.Plan(ctx, w.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a plan was saved off the record: %v", err)
	}
	s, err := ws.Save(ctx, w.ID, "lee", func(_ context.Context, s Saved) error {
		if s.Counts.Tracks != 1 || len(s.SHA256) != 64 {
			t.Errorf("recorded %+v", s)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := ws.Get(ctx, w.ID)
	if got.Edited || got.SavedBy != "lee" || got.SavedAt.IsZero() || got.PlanSHA256 != s.SHA256 {
		t.Fatalf("after the save: %+v", got)
	}
	if b, err := ws.Plan(ctx, w.ID); err != nil || len(b) == 0 {
		t.Fatalf("saved plan: %d bytes, %v", len(b), err)
	}

	if _, err := ws.Delete(ctx, w.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(ws.Dir(w.ID)); !os.IsNotExist(err) {
		t.Fatalf("the clip is left after the delete: %v", err)
	}
	if all, _ := ws.List(ctx); len(all) != 0 {
		t.Fatalf("%d workspaces left", len(all))
	}
}

// A node that dies mid-analysis leaves a lease that runs out; a node that
// stops releases its lease at once.
func TestAnalysisLease(t *testing.T) {
	ctx := context.Background()
	ws := newWorkspaces(t)
	w := add(t, ws)
	if c, _ := ws.claim(ctx); c == nil {
		t.Fatal("nothing to claim")
	}
	if _, err := ws.pool.Exec(ctx, `UPDATE review_workspaces SET lease_until = now() - interval '1 second'`); err != nil {
		t.Fatal(err)
	}
	if c, _ := ws.claim(ctx); c == nil || c.ID != w.ID {
		t.Fatal("an expired lease was not taken over")
	}
	if err := ws.renew(ctx, w.ID, 40); err != nil {
		t.Fatal(err)
	}
	if got, _ := ws.Get(ctx, w.ID); got.Progress != 40 {
		t.Fatalf("progress %d, want 40", got.Progress)
	}
	if err := ws.release(ctx, w.ID); err != nil {
		t.Fatal(err)
	}
	if c, _ := ws.claim(ctx); c == nil {
		t.Fatal("a released workspace was not claimed")
	}
}

// The analyser runs the child, and a clip the child cannot read fails its
// workspace with what the child said, the progress lines aside.
func TestAnalyserRecordsAFailedAnalysis(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ws := newWorkspaces(t)
	w := add(t, ws)
	a := NewAnalyser(ws, slog.New(slog.DiscardHandler))
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	a.Wake()
	var got *Workspace
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if got, _ = ws.Get(ctx, w.ID); got.State != Analysing {
			break
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got.State != Failed || !strings.Contains(got.Error, "mask: "+ws.Source(w.ID)+": no video stream") || strings.Contains(got.Error, "frames") {
		t.Fatalf("after the analysis: %s, %q", got.State, got.Error)
	}
}
