package console

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
)

// maxBoxFrames bounds one request for the boxes to draw.
const maxBoxFrames = 900

// reviewBoxes lists the draft's boxes on frames [from, to).
func (c *Console) reviewBoxes(e echo.Context) error {
	from, err1 := strconv.Atoi(e.QueryParam("from"))
	to, err2 := strconv.Atoi(e.QueryParam("to"))
	if err1 != nil || err2 != nil || from < 0 || to < from || to-from > maxBoxFrames {
		return echo.NewHTTPError(http.StatusBadRequest, "from and to: a range of at most 900 frames")
	}
	p, err := c.reviews.Draft(e.Request().Context(), e.Param("id"))
	if err != nil {
		return httpError(err)
	}
	return e.JSON(http.StatusOK, p.BoxesIn(from, to))
}
