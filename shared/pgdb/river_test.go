package pgdb_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"sealgate/shared/pgcluster"
	"sealgate/shared/pgdb"
	"sealgate/shared/pgdb/pgtest"
)

// riverSource is River's migrations taken as inner/pipeline takes them
// (schema.go there), so this package can prove its grants suffice for River
// without importing the pipeline.
func riverSource(t *testing.T) pgdb.Source {
	t.Helper()
	m, err := rivermigrate.New(riverpgxv5.New(nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	files := fstest.MapFS{}
	for _, v := range m.AllVersions() {
		sql := strings.ReplaceAll(v.SQLUp, "/* TEMPLATE: schema */", "")
		files[fmt.Sprintf("river/%04d_%s.sql", v.Version, strings.ReplaceAll(v.Name, " ", "_"))] = &fstest.MapFile{Data: []byte(sql)}
	}
	return pgdb.Source{Schema: "river", FS: files, Dir: "river"}
}

type pingArgs struct{}

func (pingArgs) Kind() string { return "ping" }

// errorLog keeps the error records River logs (a refused query is logged,
// not returned, by its background services).
type errorLog struct {
	mu   sync.Mutex
	errs []string
}

func (h *errorLog) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelError }
func (h *errorLog) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	msg := r.Message
	r.Attrs(func(a slog.Attr) bool { msg += " " + a.String(); return true })
	h.errs = append(h.errs, msg)
	return nil
}
func (h *errorLog) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *errorLog) WithGroup(string) slog.Handler      { return h }

func TestRiverWorksAsTheServingRole(t *testing.T) {
	ctx := context.Background()
	url := pgtest.NewDatabase(t, pgdb.MustMigrations(riverSource(t)))
	app := pgtest.RolePool(t, url, pgcluster.AppRole)

	done := make(chan struct{}, 1)
	workers := river.NewWorkers()
	river.AddWorker(workers, river.WorkFunc(func(ctx context.Context, _ *river.Job[pingArgs]) error {
		done <- struct{}{}
		return nil
	}))
	logs := &errorLog{}
	client, err := river.NewClient(riverpgxv5.New(app), &river.Config{
		Queues:  map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 1}},
		Workers: workers,
		Logger:  slog.New(logs),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := client.Start(ctx); err != nil {
		t.Fatalf("River start as the serving role: %v", err)
	}
	if _, err := client.Insert(ctx, pingArgs{}, nil); err != nil {
		t.Fatalf("River insert as the serving role: %v", err)
	}
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("the job was not worked within 30 s")
	}
	// The completer marks the job and the elector takes leadership, both as
	// the serving role.
	deadline := time.Now().Add(15 * time.Second)
	for {
		var completed, leaders int
		err := app.QueryRow(ctx, `SELECT (SELECT count(*) FROM river_job WHERE state = 'completed'), (SELECT count(*) FROM river_leader)`).Scan(&completed, &leaders)
		if err != nil {
			t.Fatal(err)
		}
		if completed == 1 && leaders == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d completed jobs and %d leaders after 15 s, want 1 and 1", completed, leaders)
		}
		time.Sleep(50 * time.Millisecond)
	}
	stopCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := client.Stop(stopCtx); err != nil {
		t.Fatal(err)
	}
	logs.mu.Lock()
	defer logs.mu.Unlock()
	for _, e := range logs.errs {
		if strings.Contains(e, "permission denied") || strings.Contains(e, "must be owner") {
			t.Errorf("River logged a refusal: %s", e)
		}
	}
}
