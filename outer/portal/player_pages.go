package portal

import (
	"embed"
	"io/fs"
)

// TEMPORARY until portal-a's Pages() embeds every templates/*.html: the
// player's own page, for the tests to hand to accountui.Config.Pages.
//
//go:embed templates/package_play.html
var playerTemplates embed.FS

// PlayerPages is the player's template alone (see Pages once it exists).
func PlayerPages() fs.FS {
	sub, err := fs.Sub(playerTemplates, "templates")
	if err != nil {
		panic(err)
	}
	return sub
}
