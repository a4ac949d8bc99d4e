package console

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"

	"github.com/labstack/echo/v4"

	"sealgate/inner/mask"
	"sealgate/inner/review"
	"sealgate/shared/accountui"
	"sealgate/shared/audit"
	"sealgate/shared/i18n"
)

// reviewCreate takes an uploaded clip into a new workspace, on record, and
// has it analysed.
func (c *Console) reviewCreate(e echo.Context) error {
	ctx := e.Request().Context()
	fh, status, key := formFile(e, "clip", "review.no_file")
	if fh == nil {
		all, err := c.reviews.List(ctx)
		return errors.Join(err, c.ui.Render(e, accountui.View{Name: "reviews", Title: "review.title", Status: status,
			Data: reviewsView{LimitMB: ReviewUploadLimit >> 20, Reviews: all}, Error: i18n.T(i18n.Pick(e.Request()), key)}))
	}
	detect := slices.Clone(mask.DefaultDetect)
	if e.FormValue("people") != "" {
		detect = append(detect, mask.DetectPeople)
	}
	id := review.NewID()
	dir := c.reviews.Dir(id)
	if err := os.Mkdir(dir, 0o700); err != nil {
		return fmt.Errorf("review workspace: %w", err)
	}
	f, err := os.OpenFile(c.reviews.Source(id), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		os.RemoveAll(dir)
		return fmt.Errorf("review workspace: %w", err)
	}
	sum, err := saveUpload(fh, f)
	if err != nil {
		os.RemoveAll(dir)
		return err
	}
	s := accountui.Session(e)
	w := &review.Workspace{ID: id, Name: filepath.Base(fh.Filename), SourceSHA256: sum, Detect: detect, CreatedBy: s.User.Username}
	if err := c.audit.Append(ctx, audit.Entry{Actor: s.User.Username, Action: "mask.review.create", Target: "review:" + id,
		Outcome: audit.OK, Remote: e.RealIP(), Detail: fmt.Sprintf("%s sha256:%s", w.Name, sum)}); err != nil {
		os.RemoveAll(dir)
		return err // footage that is not on record is not kept
	}
	if err := c.reviews.Add(ctx, w); err != nil {
		os.RemoveAll(dir)
		return err
	}
	c.analyser.Wake()
	return e.Redirect(http.StatusSeeOther, "/reviews/"+id)
}
