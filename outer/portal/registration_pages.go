package portal

import (
	"embed"
	"io/fs"
)

//go:embed templates/registration_*.html
var registrationTemplates embed.FS

// registrationPages are the registration pages' templates, added to the
// UI by registrationRoutes until the portal's Pages (every template, for
// accountui.Config.Pages) carries them.
func registrationPages() fs.FS {
	sub, err := fs.Sub(registrationTemplates, "templates")
	if err != nil {
		panic(err)
	}
	return sub
}
