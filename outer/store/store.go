// Package store holds sealgate-outer's database schema: numbered migrations
// embedded in the binary (migrations/NNNN_name.sql; see shared/pgdb).
package store

import (
	"embed"

	"sealgate/shared/account"
	"sealgate/shared/pgdb"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations returns the outer daemon's schema migrations in order.
// They include the shared account schema.
func Migrations() []pgdb.Migration {
	return pgdb.MustMigrations(pgdb.Source{FS: migrationFiles, Dir: "migrations"}, account.Schema)
}
