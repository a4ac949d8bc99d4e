package console

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"

	"sealgate/inner/export"
	"sealgate/inner/mask/plan"
	"sealgate/inner/review"
)

// httpError is how the editor's API answers an error of the layers below:
// a refused edit or request is the reviewer's to correct (400, with the
// reason), a missing workspace or track is 404, one not ready is 409, and
// anything else is the server's (500, logged, no detail shown).
func httpError(err error) error {
	var re *review.RequestError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, review.ErrNotFound), errors.Is(err, plan.ErrNoTrack):
		return echo.ErrNotFound
	case errors.Is(err, review.ErrNotReady):
		return echo.NewHTTPError(http.StatusConflict, "the clip is not analysed")
	case errors.Is(err, review.ErrBusy):
		return echo.NewHTTPError(http.StatusConflict, "the clip is being analysed")
	case errors.Is(err, plan.ErrNotManual):
		return echo.NewHTTPError(http.StatusBadRequest, "a detection's boxes are not edited: leave it unmasked as a false detection, or draw a box")
	case errors.Is(err, plan.ErrEmptyCut):
		return echo.NewHTTPError(http.StatusBadRequest, "nothing of the track would be left: delete it instead")
	case errors.Is(err, plan.ErrBadBox), errors.Is(err, plan.ErrBadReason), errors.Is(err, plan.ErrTooManyTracks):
		return echo.NewHTTPError(http.StatusBadRequest, err.Error())
	case errors.As(err, &re):
		return echo.NewHTTPError(http.StatusBadRequest, re.Msg)
	}
	return workflowError(err)
}

// workflowError is how a page answers the export workflow's refusals: a
// rule (role, separation of duties) is 403 with the reason, a missing
// record 404, an action the state does not allow 409.
func workflowError(err error) error {
	switch {
	case errors.Is(err, export.ErrForbidden):
		return echo.NewHTTPError(http.StatusForbidden, err.Error())
	case errors.Is(err, export.ErrNotFound):
		return echo.ErrNotFound
	case errors.Is(err, export.ErrState):
		return echo.NewHTTPError(http.StatusConflict, err.Error())
	}
	return err
}

// readJSON decodes a small request body strictly: one JSON value of v's
// fields, and nothing after it.
func readJSON(c echo.Context, v any) error {
	dec := json.NewDecoder(io.LimitReader(c.Request().Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "bad request body: "+err.Error())
	}
	if _, err := dec.Token(); err != io.EOF {
		return echo.NewHTTPError(http.StatusBadRequest, "bad request body: data after the JSON value")
	}
	return nil
}
