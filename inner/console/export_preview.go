package console

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"sealgate/inner/child"
	"sealgate/inner/export"
	"sealgate/inner/pipeline"
	"sealgate/shared/accountui"
	"sealgate/shared/audit"
)

// checkedExport is export id while it waits for release after its leak
// check; any other state answers 404 (there is no preview to see).
func (c *Console) checkedExport(e echo.Context) (*export.Export, error) {
	id, err := strconv.ParseInt(e.Param("id"), 10, 64)
	if err != nil {
		return nil, echo.ErrNotFound
	}
	x, err := c.workflow.Show(e.Request().Context(), id)
	if err != nil {
		return nil, workflowError(err)
	}
	if x.State != export.Checking {
		return nil, echo.ErrNotFound
	}
	return x, nil
}

// exportPreview streams the masked, marked copy the approver releases or
// not (Range, so the player seeks); each viewing from its start is audited.
func (c *Console) exportPreview(e echo.Context) error {
	x, err := c.checkedExport(e)
	if err != nil {
		return err
	}
	s, err := serveFile(e, pipeline.RenderedPath(c.workDir, x.ID), x.Code+".mp4", "video/mp4")
	if err != nil || s.First != 0 || s.Bytes == 0 {
		return err
	}
	return c.audit.Append(e.Request().Context(), audit.Entry{Actor: accountui.Session(e).User.Username, Action: "export.preview",
		Target: fmt.Sprintf("export:%d", x.ID), Outcome: audit.OK, Remote: e.RealIP(), Detail: "the masked copy before release"})
}

// maxSuspectJPEG bounds a suspect frame's JPEG (960 px wide, q 4).
const maxSuspectJPEG = 4 << 20

// exportSuspect is one suspect frame of the leak check, as a JPEG of the
// masked copy with the suspect's box drawn on it.
func (c *Console) exportSuspect(e echo.Context) error {
	x, err := c.checkedExport(e)
	if err != nil {
		return err
	}
	n, err := strconv.Atoi(e.Param("n"))
	if err != nil || x.Leaks == nil || n < 0 || n >= len(x.Leaks.Suspects) {
		return echo.ErrNotFound
	}
	f, err := c.workflow.OneFootage(e.Request().Context(), x.FootageID)
	if err != nil {
		return workflowError(err)
	}
	sus := x.Leaks.Suspects[n]
	at := float64(sus.Frame) / max(f.FPS, 1)
	// The suspect's box, drawn on the frame at the video's own size, then scaled for the page.
	filter := fmt.Sprintf("drawbox=x=%d:y=%d:w=%d:h=%d:color=red@0.9:t=3,scale='min(960,iw)':-2", sus.X, sus.Y, max(sus.W, 1), max(sus.H, 1))
	ctx, cancel := context.WithTimeout(e.Request().Context(), 30*time.Second)
	defer cancel()
	// ffmpeg decodes the masked copy, itself made from hostile footage, so
	// it runs as a confined child (inner/child), the copy as a descriptor,
	// the JPEG read back capped.
	cj, err := child.NewJob()
	if err != nil {
		return err
	}
	defer cj.Close()
	in, err := cj.Input(pipeline.RenderedPath(c.workDir, x.ID))
	if err != nil {
		return err
	}
	// -ss before -i seeks to the keyframe and decodes up to the frame: exact, and fast on long clips.
	out, err := cj.Run(ctx, child.Options{MaxStdout: maxSuspectJPEG}, child.ExecCommand, "ffmpeg", "-nostdin", "-v", "error",
		"-ss", strconv.FormatFloat(at, 'f', 4, 64), "-i", in, "-frames:v", "1", "-vf", filter, "-f", "image2pipe", "-c:v", "mjpeg", "-q:v", "4", "-")
	if err != nil || len(out) == 0 {
		return fmt.Errorf("console: frame %d of export %d: %v", sus.Frame, x.ID, err)
	}
	e.Response().Header().Set("Cache-Control", "no-store")
	return e.Blob(http.StatusOK, "image/jpeg", out)
}
