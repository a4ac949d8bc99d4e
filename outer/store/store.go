// Package store holds sealgate-outer's database schema: numbered migrations
// embedded in the binary (migrations/NNNN_name.sql; see shared/pgdb).
package store

import (
	"embed"

	"sealgate/shared/pgdb"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations returns the outer daemon's schema migrations in order.
func Migrations() []pgdb.Migration { return pgdb.MustMigrations(migrationFiles, "migrations") }
