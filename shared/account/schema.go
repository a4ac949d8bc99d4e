package account

import (
	"embed"

	"sealgate/shared/pgdb"
)

//go:embed schema/*.sql
var schemaFiles embed.FS

// Schema holds the migrations of the account, session and audit tables,
// which both daemons include after their own 0001 (the users table with
// the daemon's roles).
var Schema = pgdb.Source{FS: schemaFiles, Dir: "schema"}
