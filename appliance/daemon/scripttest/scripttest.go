// Package scripttest runs a binary's CLI contract scripts (testdata/*.txtar)
// under testscript, with commands for what the contracts check: file modes
// and whether a private PostgreSQL is still running.
package scripttest

import (
	"fmt"
	"os"
	"strconv"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"sealgate/shared/pgcluster"
)

// Run runs every script in testdata/.
func Run(t *testing.T) {
	root, err := os.MkdirTemp("", "sgts")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	// postgres, run unprivileged under root, must traverse to $WORK/data/pg.
	if err := os.Chmod(root, 0o711); err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata",
		WorkdirRoot:         root,
		RequireExplicitExec: true,
		Setup:               func(e *testscript.Env) error { return os.Chmod(e.WorkDir, 0o711) },
		Cmds: map[string]func(*testscript.TestScript, bool, []string){
			"mode":      mode,
			"pgrunning": pgrunning,
		},
	})
}

// mode FILE PERM: the file's permission bits are exactly PERM (octal).
func mode(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: mode FILE PERM")
	}
	want, err := strconv.ParseUint(args[1], 8, 32)
	ts.Check(err)
	fi, err := os.Stat(ts.MkAbs(args[0]))
	ts.Check(err)
	if got := fi.Mode().Perm(); (got == os.FileMode(want)) == neg {
		ts.Fatalf("%s has mode %#o, want %s%#o", args[0], got, map[bool]string{true: "not ", false: ""}[neg], want)
	}
}

// pgrunning DIR: a postgres server runs the private cluster in DIR.
func pgrunning(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: pgrunning DIR")
	}
	pid, ok := pgcluster.RunningPID(ts.MkAbs(args[0]))
	if ok == neg {
		ts.Fatalf("%s", map[bool]string{true: fmt.Sprintf("postgres pid %d runs %s", pid, args[0]), false: "no postgres runs " + args[0]}[neg])
	}
}
