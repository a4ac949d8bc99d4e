package console

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"sealgate/inner/mask/plan"
	"sealgate/inner/review"
)

type trackJSON struct {
	ID       int    `json:"id"`
	Kind     string `json:"kind"`
	Source   string `json:"source"`
	Excluded bool   `json:"excluded"`
	Reason   string `json:"reason,omitempty"`
	First    int    `json:"first"`
	Last     int    `json:"last"`
	Boxes    int    `json:"boxes"`
}

func summary(t plan.Track) trackJSON {
	tj := trackJSON{ID: t.ID, Kind: t.Kind, Source: t.Source, Excluded: t.Excluded, Reason: t.Reason, Boxes: len(t.Boxes)}
	if len(t.Boxes) > 0 {
		tj.First, tj.Last = t.Boxes[0].F, t.Boxes[len(t.Boxes)-1].F
	}
	return tj
}

// reviewData is what the editor starts from: the clip, the draft's tracks
// and the state of its save.
func (c *Console) reviewData(e echo.Context) error {
	ctx := e.Request().Context()
	w, err := c.reviews.Ready(ctx, e.Param("id"))
	if err != nil {
		return httpError(err)
	}
	worker, err := c.worker(e, w)
	if err != nil {
		return err
	}
	p, err := c.reviews.Draft(ctx, w.ID)
	if err != nil {
		return httpError(err)
	}
	tracks := []trackJSON{}
	for _, t := range p.Tracks {
		tracks = append(tracks, summary(t))
	}
	return e.JSON(http.StatusOK, map[string]any{"clip": worker.Clip, "style": p.Style, "margin": p.Margin,
		"tracks": tracks, "edited": w.Edited, "saved_at": w.SavedAt, "saved_by": w.SavedBy, "plan_sha256": w.PlanSHA256})
}

// worker is the live review worker of w's clip.
func (c *Console) worker(e echo.Context, w *review.Workspace) (*review.Worker, error) {
	worker, err := c.workers.Get(e.Request().Context(), w.ID, c.reviews.Source(w.ID))
	if err != nil {
		return nil, httpError(err)
	}
	return worker, nil
}
