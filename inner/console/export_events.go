package console

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"sealgate/shared/web"
)

// exportEvents streams an export's state and stages as server-sent events
// whenever they change (on any node), or every export's with id "all":
// the pages update without polling.
func (c *Console) exportEvents(e echo.Context) error {
	var only int64
	if p := e.Param("id"); p != "all" {
		id, err := strconv.ParseInt(p, 10, 64)
		if err != nil {
			return echo.ErrNotFound
		}
		if _, err := c.workflow.Show(e.Request().Context(), id); err != nil {
			return workflowError(err)
		}
		only = id
	}
	ch, cancel := c.live.subscribe()
	defer cancel()
	w := e.Response()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	ctx := e.Request().Context()
	send := func(id int64) error {
		x, err := c.workflow.Show(ctx, id)
		if err != nil {
			return err
		}
		b, err := json.Marshal(map[string]any{"id": x.ID, "state": x.State, "stages": x.Stages, "error": x.Error, "package_sha256": x.PackageSHA256})
		if err != nil {
			return err
		}
		web.KeepStreaming(w)
		if _, err := fmt.Fprintf(w, "data: %s\n\n", b); err != nil {
			return err
		}
		w.Flush()
		return nil
	}
	if only != 0 {
		if err := send(only); err != nil {
			return nil
		}
	}
	ping := time.NewTicker(15 * time.Second)
	defer ping.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case id := <-ch:
			if only != 0 && id != only {
				continue
			}
			if err := send(id); err != nil {
				return nil
			}
		case <-ping.C:
			web.KeepStreaming(w)
			if _, err := fmt.Fprint(w, ": ping\n\n"); err != nil {
				return nil
			}
			w.Flush()
		}
	}
}
