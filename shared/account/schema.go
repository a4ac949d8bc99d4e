package account

import (
	"embed"

	"sealgate/shared/pgdb"
)

//go:embed schema/*.sql
var schemaFiles embed.FS

// Schema holds the migrations of the users, recovery-code and session
// tables, which this package owns in both daemons' databases.
var Schema = pgdb.Source{Schema: "account", FS: schemaFiles, Dir: "schema"}
