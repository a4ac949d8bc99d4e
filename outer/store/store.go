// Package store holds sealgate-outer's database schema: numbered migrations
// embedded in the binary (migrations/NNNN_name.sql; see shared/pgdb).
package store

import (
	"embed"

	"sealgate/shared/account"
	"sealgate/shared/audit"
	"sealgate/shared/pgdb"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations returns the outer daemon's schema migrations in order.
// Each owner numbers its own: the accounts and the audit log (shared),
// the outer's package records.
func Migrations() []pgdb.Migration {
	return pgdb.MustMigrations(account.Schema, audit.Schema, pgdb.Source{Schema: "outer", FS: migrationFiles, Dir: "migrations"})
}
