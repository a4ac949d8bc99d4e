package audit

import (
	"embed"

	"sealgate/shared/pgdb"
)

//go:embed schema/*.sql
var schemaFiles embed.FS

// Schema holds the migrations of the audit log, which this package owns in
// both daemons' databases.
var Schema = pgdb.Source{Schema: "audit", FS: schemaFiles, Dir: "schema"}
