package console

import (
	"strings"

	"github.com/labstack/echo/v4"

	"sealgate/inner/review"
	"sealgate/shared/accountui"
	"sealgate/shared/i18n"
)

type reviewView struct {
	*review.Workspace
	Labels map[string]string // the editor script's words, in the page's language
}

// editorLabels are the i18n keys the editor script shows.
var editorLabels = []string{"review.frame", "review.kind.face", "review.kind.person", "review.kind.plate", "review.kind.manual",
	"review.status.masked", "review.status.subject", "review.status.not_sensitive",
	"review.act.subject", "review.act.not_sensitive", "review.act.mask", "review.act.delete", "review.act.go",
	"review.msg.saved", "review.msg.edited", "review.msg.tracking", "review.msg.draw_first", "review.msg.selected"}

// reviewShow is the editor page of one workspace (or its analysis's
// progress, or its failure).
func (c *Console) reviewShow(e echo.Context) error {
	w, err := c.reviews.Get(e.Request().Context(), e.Param("id"))
	if err != nil {
		return httpError(err)
	}
	lang := i18n.Pick(e.Request())
	labels := map[string]string{}
	for _, k := range editorLabels {
		labels[strings.TrimPrefix(k, "review.")] = i18n.T(lang, k)
	}
	return c.ui.Render(e, accountui.View{Name: "review", Title: "review.title", Data: reviewView{Workspace: w, Labels: labels}})
}
