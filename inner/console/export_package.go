package console

import (
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"sealgate/inner/export"
	"sealgate/inner/pipeline"
	"sealgate/shared/accountui"
	"sealgate/shared/audit"
)

// exportPackage is an offline package's one download, by the person who
// handed it over, within the hand-over window. A broken download resumes
// (Range); once the last byte has gone the appliance deletes its copy.
// Every request is audited. Anything else answers 404.
func (c *Console) exportPackage(e echo.Context) error {
	id, err := strconv.ParseInt(e.Param("id"), 10, 64)
	if err != nil {
		return echo.ErrNotFound
	}
	ctx := e.Request().Context()
	x, err := c.workflow.Show(ctx, id)
	if err != nil {
		return workflowError(err)
	}
	me := accountui.Session(e).User.Username
	if !handedOverBy(x, me, time.Now()) || x.PackagePath == "" {
		return echo.ErrNotFound
	}
	s, err := serveFile(e, x.PackagePath, pipeline.PackageFile(x), "application/octet-stream")
	if err != nil {
		return err
	}
	if s.ToEnd() {
		if err := os.Remove(x.PackagePath); err != nil {
			c.log.Error("delete a downloaded offline package", "export", id, "err", err)
		}
	}
	return c.audit.Append(ctx, audit.Entry{Actor: me, Action: "export.download", Target: fmt.Sprintf("export:%d", id),
		Outcome: audit.OK, Remote: e.RealIP(), Detail: fmt.Sprintf("%s, %s; complete: %t", pipeline.PackageFile(x), s, s.ToEnd())})
}

// handedOverBy says user handed x over, within the window before now.
func handedOverBy(x *export.Export, user string, now time.Time) bool {
	if x.State != export.Delivered || x.Delivery != "offline" {
		return false
	}
	for _, ev := range x.History {
		if ev.To == export.Delivered {
			return ev.Actor == user && now.Sub(ev.At) < pipeline.HandOverWindow
		}
	}
	return false
}
