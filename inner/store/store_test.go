package store_test

import (
	"context"
	"os"
	"testing"

	"sealgate/inner/store"
	"sealgate/shared/pgdb"
	"sealgate/shared/pgdb/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func TestMigrationsApplyToARealDatabase(t *testing.T) {
	ms := store.Migrations()
	pool := pgtest.NewPool(t, ms)
	if err := pgdb.CheckSchema(context.Background(), pool, ms); err != nil {
		t.Fatal(err)
	}
}
