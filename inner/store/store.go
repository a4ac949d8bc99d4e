// Package store holds sealgate-inner's database schema: numbered migrations
// embedded in the binary (migrations/NNNN_name.sql; see shared/pgdb).
package store

import (
	"embed"

	"sealgate/inner/review"
	"sealgate/shared/account"
	"sealgate/shared/pgdb"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations returns the inner daemon's schema migrations in order.
// They include the shared account schema and the review workspaces'.
func Migrations() []pgdb.Migration {
	return pgdb.MustMigrations(pgdb.Source{FS: migrationFiles, Dir: "migrations"}, account.Schema, review.Schema)
}
