// Package store holds sealgate-inner's database schema: numbered migrations
// embedded in the binary (migrations/NNNN_name.sql; see shared/pgdb).
package store

import (
	"embed"

	"sealgate/inner/pipeline"
	"sealgate/inner/review"
	"sealgate/shared/account"
	"sealgate/shared/audit"
	"sealgate/shared/pgdb"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations returns the inner daemon's schema migrations in order.
// Each owner numbers its own: the accounts and the audit log (shared),
// the inner's outbox, ledger and exports, the review workspaces, River's job tables.
func Migrations() []pgdb.Migration {
	return pgdb.MustMigrations(account.Schema, audit.Schema, pgdb.Source{Schema: "inner", FS: migrationFiles, Dir: "migrations"}, review.Schema, pipeline.Schema)
}
