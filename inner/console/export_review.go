package console

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"

	"github.com/labstack/echo/v4"

	"sealgate/inner/export"
	"sealgate/inner/mask"
	"sealgate/inner/pipeline"
	"sealgate/inner/review"
	"sealgate/shared/accountui"
)

// exportSendBack sends a checked export back to the review editor: a
// workspace of the very video it renders from, analysed as any other,
// where the masking the approver found wanting is corrected.
func (c *Console) exportSendBack(e echo.Context) error {
	id, err := strconv.ParseInt(e.Param("id"), 10, 64)
	if err != nil {
		return echo.ErrNotFound
	}
	ctx, me := e.Request().Context(), accountui.Session(e).User.Username
	var opened string
	err = c.workflow.SendBack(ctx, actor(e), id, e.FormValue("reason"), func(x *export.Export) (string, error) {
		f, err := c.workflow.OneFootage(ctx, x.FootageID)
		if err != nil {
			return "", err
		}
		rid, err := c.openReview(ctx, pipeline.RenderSource(c.workDir, x.ID, f.Path), x.Code, me)
		opened = rid
		return rid, err
	})
	if err != nil {
		if opened != "" {
			c.reviews.Delete(context.WithoutCancel(ctx), opened) // the send-back did not happen: nor does its workspace
		}
		if msgs, ok := fieldErrors(e, err); ok {
			return echo.NewHTTPError(http.StatusUnprocessableEntity, msgs["decision_reason"])
		}
		return workflowError(err)
	}
	c.analyser.Wake()
	return e.Redirect(http.StatusSeeOther, fmt.Sprintf("/exports/%d", id))
}

// openReview makes a review workspace of src for a send-back.
func (c *Console) openReview(ctx context.Context, src, name, by string) (string, error) {
	rid := review.NewID()
	dir := c.reviews.Dir(rid)
	if err := os.Mkdir(dir, 0o700); err != nil {
		return "", fmt.Errorf("review workspace: %w", err)
	}
	sum, err := copyHashed(src, c.reviews.Source(rid))
	if err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	// No entry of its own: the send-back's, in the same transaction as the
	// export's change, names the workspace (and holds the audit chain's
	// lock until it commits).
	w := &review.Workspace{ID: rid, Name: name, SourceSHA256: sum, CreatedBy: by,
		Detect: []string{mask.DetectSmallFaces, mask.DetectPeople, mask.DetectPlates}}
	if err := c.reviews.Add(ctx, w); err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	return rid, nil
}

// copyHashed copies src to a new file dst (0600, synced) and returns the
// copy's SHA-256.
func copyHashed(src, dst string) (string, error) {
	in, err := os.Open(src)
	if err != nil {
		return "", fmt.Errorf("review workspace: %w", err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", fmt.Errorf("review workspace: %w", err)
	}
	h := sha256.New()
	_, err = io.Copy(io.MultiWriter(out, h), in)
	err = errors.Join(err, out.Sync(), out.Close())
	if err != nil {
		os.Remove(dst)
		return "", fmt.Errorf("review workspace: copy the video: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// exportRerender renders an export sent back to review again, once its
// review's plan is saved.
func (c *Console) exportRerender(e echo.Context) error {
	id, err := strconv.ParseInt(e.Param("id"), 10, 64)
	if err != nil {
		return echo.ErrNotFound
	}
	ctx := e.Request().Context()
	x, err := c.workflow.Show(ctx, id)
	if err != nil {
		return workflowError(err)
	}
	if x.ReviewID == "" {
		return echo.NewHTTPError(http.StatusConflict, "the export was not sent back to review")
	}
	if _, err := c.reviews.Plan(ctx, x.ReviewID); errors.Is(err, review.ErrNotFound) {
		return echo.NewHTTPError(http.StatusConflict, "save the reviewed plan first")
	} else if err != nil {
		return err
	}
	if err := c.workflow.Rerender(ctx, actor(e), id); err != nil {
		return workflowError(err)
	}
	return e.Redirect(http.StatusSeeOther, fmt.Sprintf("/exports/%d", id))
}
