package audit

import (
	"embed"

	"sealgate/shared/pgdb"
)

//go:embed schema/*.sql
var schemaFiles embed.FS

// Schema holds the migrations of the audit log, which this package owns in
// both daemons' databases. The serving role may only read and append to
// audit_log and peer_anchor (pgdb.Setup grants it so).
var Schema = pgdb.Source{Schema: "audit", FS: schemaFiles, Dir: "schema", AppendOnly: []string{"audit_log", "peer_anchor"}}
