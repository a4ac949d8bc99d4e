package pgcluster_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"sealgate/shared/pgcluster"
)

func tempDir(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("", "sgpgc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	if err := os.Chmod(d, 0o711); err != nil { // postgres runs unprivileged under root
		t.Fatal(err)
	}
	return d
}

func query(t *testing.T, url, sql string, args ...any) int {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func TestStartStopKeepsDataAndLeavesNothing(t *testing.T) {
	dir := tempDir(t)
	ctx := context.Background()
	opts := pgcluster.Options{Dir: dir + "/pg", Database: "app", Ephemeral: true}
	c, err := pgcluster.Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	query(t, c.URL(), `SELECT 1`)
	conn, err := pgx.Connect(ctx, c.URL())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `CREATE TABLE kept (n int); INSERT INTO kept VALUES (42)`); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)

	if _, err := pgcluster.Start(ctx, opts); !errors.Is(err, pgcluster.ErrRunning) {
		t.Fatalf("second Start on a served directory: got %v, want ErrRunning", err)
	}
	pid, ok := pgcluster.RunningPID(opts.Dir)
	if !ok {
		t.Fatal("RunningPID: no server reported while running")
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := syscall.Kill(pid, 0); err == nil {
		t.Fatalf("postgres pid %d still alive after Close", pid)
	}
	if _, ok := pgcluster.RunningPID(opts.Dir); ok {
		t.Fatal("RunningPID reports a server after Close")
	}

	c, err = pgcluster.Start(ctx, opts)
	if err != nil {
		t.Fatalf("restart: %v", err)
	}
	defer c.Close()
	if n := query(t, c.URL(), `SELECT n FROM kept`); n != 42 {
		t.Fatalf("data after restart: got %d, want 42", n)
	}
}

func TestSupervisorRestartsAKilledServer(t *testing.T) {
	dir := tempDir(t)
	c, err := pgcluster.Start(context.Background(), pgcluster.Options{Dir: dir, Ephemeral: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	pid, _ := pgcluster.RunningPID(dir)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if p, ok := pgcluster.RunningPID(dir); ok && p != pid {
			conn, err := pgx.Connect(context.Background(), c.URL())
			if err == nil {
				conn.Close(context.Background())
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("server not restarted within 30 s of being killed")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestMissingBinariesNameMakeDeps(t *testing.T) {
	_, err := pgcluster.Start(context.Background(), pgcluster.Options{Dir: tempDir(t), BinDir: "/nonexistent"})
	if !errors.Is(err, pgcluster.ErrNoBinaries) {
		t.Fatalf("got %v, want ErrNoBinaries", err)
	}
	if want := "make deps"; !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q does not name %q", err, want)
	}
}
