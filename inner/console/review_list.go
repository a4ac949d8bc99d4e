package console

import (
	"github.com/labstack/echo/v4"

	"sealgate/inner/review"
	"sealgate/shared/accountui"
)

type reviewsView struct {
	LimitMB int64
	Reviews []*review.Workspace
}

// reviewList shows every clip under review and the upload form.
func (c *Console) reviewList(e echo.Context) error {
	all, err := c.reviews.List(e.Request().Context())
	if err != nil {
		return err
	}
	return c.ui.Render(e, accountui.View{Name: "reviews", Title: "review.title", Data: reviewsView{LimitMB: ReviewUploadLimit >> 20, Reviews: all}})
}
