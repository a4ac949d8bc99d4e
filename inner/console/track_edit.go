package console

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"sealgate/inner/mask/plan"
)

// The editor's actions on a track.
const (
	actSubject      = plan.ReasonSubject      // leave unmasked: the data subject
	actNotSensitive = plan.ReasonNotSensitive // leave unmasked: a false detection
	actMask         = "mask"                  // mask again
	actDelete       = "delete"                // remove a drawn track
	actCutBefore    = "cut_before"            // a drawn track starts at Frame
	actCutAfter     = "cut_after"             // a drawn track ends at Frame
)

// trackID is the track a request names.
func trackID(e echo.Context) (int, error) {
	id, err := strconv.Atoi(e.Param("track"))
	if err != nil {
		return 0, echo.ErrNotFound
	}
	return id, nil
}

// trackEdit applies one of the editor's actions to a track of the draft.
func (c *Console) trackEdit(e echo.Context) error {
	id, err := trackID(e)
	if err != nil {
		return err
	}
	var req trackEditRequest
	if err := readJSON(e, &req); err != nil {
		return err
	}
	edit, err := req.edit(id)
	if err != nil {
		return err
	}
	if err := c.reviews.Edit(e.Request().Context(), e.Param("id"), edit); err != nil {
		return httpError(err)
	}
	return e.NoContent(http.StatusNoContent)
}

// trackEditRequest is the body of a track edit.
type trackEditRequest struct {
	Action string
	Frame  int
}

// edit is the change of the plan req asks for on track id.
func (req trackEditRequest) edit(id int) (func(p *plan.Plan) error, error) {
	switch req.Action {
	case actSubject, actNotSensitive:
		return func(p *plan.Plan) error { return p.Exclude(id, req.Action) }, nil
	case actMask:
		return func(p *plan.Plan) error { return p.Include(id) }, nil
	case actDelete:
		return func(p *plan.Plan) error { return p.Delete(id) }, nil
	case actCutBefore:
		return func(p *plan.Plan) error { return p.CutBefore(id, req.Frame) }, nil
	case actCutAfter:
		return func(p *plan.Plan) error { return p.CutAfter(id, req.Frame) }, nil
	}
	return nil, echo.NewHTTPError(http.StatusBadRequest, "action: subject, not_sensitive, mask, delete, cut_before or cut_after")
}
