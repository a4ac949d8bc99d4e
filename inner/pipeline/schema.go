package pipeline

import (
	"fmt"
	"strings"
	"testing/fstest"

	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"sealgate/shared/pgdb"
)

// Schema is River's job tables as migrations of ours, owner "river": one
// numbered, locked migration path for every table of the database, and a
// test template that has them (docs/architecture.md, "Database"). River's
// SQL is taken as its migrator holds it, in the default schema.
var Schema = riverSchema()

func riverSchema() pgdb.Source {
	m, err := rivermigrate.New(riverpgxv5.New(nil), nil)
	if err != nil {
		panic(fmt.Sprintf("pipeline: River's migrations: %v", err))
	}
	files := fstest.MapFS{}
	for _, v := range m.AllVersions() {
		sql := strings.ReplaceAll(v.SQLUp, "/* TEMPLATE: schema */", "")
		name := fmt.Sprintf("%04d_%s.sql", v.Version, strings.ReplaceAll(v.Name, " ", "_"))
		files["river/"+name] = &fstest.MapFile{Data: []byte(sql)}
	}
	return pgdb.Source{Schema: "river", FS: files, Dir: "river"}
}
