package console

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"sealgate/shared/accountui"
	"sealgate/shared/audit"
)

// reviewDelete removes a workspace and its copy of the footage, on record.
func (c *Console) reviewDelete(e echo.Context) error {
	ctx := e.Request().Context()
	id := e.Param("id")
	c.workers.Close(id)
	w, err := c.reviews.Delete(ctx, id)
	if w == nil {
		return httpError(err)
	}
	s := accountui.Session(e)
	entry := audit.Entry{Actor: s.User.Username, Action: "mask.review.delete", Target: "review:" + id,
		Outcome: audit.OK, Remote: e.RealIP(), Detail: w.Name + " sha256:" + w.SourceSHA256}
	if err != nil { // the record is gone, the footage is not
		entry.Outcome, entry.Detail = audit.Failed, entry.Detail+": "+err.Error()
	}
	if aerr := c.audit.Append(ctx, entry); aerr != nil || err != nil {
		return errors.Join(err, aerr)
	}
	return e.Redirect(http.StatusSeeOther, "/reviews")
}
