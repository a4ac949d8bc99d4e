package console

import (
	"fmt"
	"mime"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"sealgate/inner/export"
	"sealgate/shared/accountui"
)

// viewWindow is how long a recorded view of an original lets its viewer's
// player fetch it (seek, pause, come back) before a new purpose is asked.
const viewWindow = time.Hour

// viewGrants are the views of originals on record: who may stream which
// original until when. In memory: a restart asks for the purpose again.
type viewGrants struct {
	mu sync.Mutex
	m  map[viewKey]time.Time
}

type viewKey struct {
	user    string
	footage int64
}

func (g *viewGrants) grant(user string, id int64, now time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.m == nil {
		g.m = map[viewKey]time.Time{}
	}
	for k, until := range g.m {
		if now.After(until) {
			delete(g.m, k)
		}
	}
	g.m[viewKey{user, id}] = now.Add(viewWindow)
}

func (g *viewGrants) allowed(user string, id int64, now time.Time) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	until, ok := g.m[viewKey{user, id}]
	return ok && now.Before(until)
}

type originalView struct {
	*export.Footage
	Watching bool
	Error    string
}

// footageShow is an original's page: its facts, and its player once the
// viewer has said why they watch it (on record).
func (c *Console) footageShow(e echo.Context) error {
	id, err := strconv.ParseInt(e.Param("id"), 10, 64)
	if err != nil {
		return echo.ErrNotFound
	}
	f, err := c.workflow.OneFootage(e.Request().Context(), id)
	if err != nil {
		return workflowError(err)
	}
	me := accountui.Session(e).User.Username
	return c.ui.Render(e, accountui.View{Name: "footage_view", Title: "footage.view",
		Data: originalView{Footage: f, Watching: c.views.allowed(me, id, time.Now())}})
}

// footageView records a view of an original and opens its player.
func (c *Console) footageView(e echo.Context) error {
	id, err := strconv.ParseInt(e.Param("id"), 10, 64)
	if err != nil {
		return echo.ErrNotFound
	}
	f, err := c.workflow.ViewOriginal(e.Request().Context(), actor(e), id, e.FormValue("purpose"))
	if msgs, ok := fieldErrors(e, err); ok {
		f, ferr := c.workflow.OneFootage(e.Request().Context(), id)
		if ferr != nil {
			return workflowError(ferr)
		}
		return c.ui.Render(e, accountui.View{Name: "footage_view", Title: "footage.view", Status: http.StatusUnprocessableEntity,
			Data: originalView{Footage: f, Error: msgs["purpose"]}})
	}
	if err != nil {
		return workflowError(err)
	}
	c.views.grant(accountui.Session(e).User.Username, f.ID, time.Now())
	return e.Redirect(http.StatusSeeOther, fmt.Sprintf("/footage/%d", id))
}

// footageOriginal streams an original to a viewer whose view is on record.
func (c *Console) footageOriginal(e echo.Context) error {
	id, err := strconv.ParseInt(e.Param("id"), 10, 64)
	if err != nil {
		return echo.ErrNotFound
	}
	if !c.views.allowed(accountui.Session(e).User.Username, id, time.Now()) {
		return echo.ErrNotFound
	}
	f, err := c.workflow.OneFootage(e.Request().Context(), id)
	if err != nil || f.DeletedAt != nil {
		return echo.ErrNotFound
	}
	kind := mime.TypeByExtension(filepath.Ext(f.FileName))
	if !strings.HasPrefix(kind, "video/") {
		kind = "application/octet-stream"
	}
	_, err = serveFile(e, f.Path, f.FileName, kind)
	return err
}
