// Package scripttest runs a binary's CLI contract scripts (testdata/*.txtar)
// under testscript, with commands for what the contracts check: file modes
// and whether a private PostgreSQL is still running.
package scripttest

import (
	"crypto/rand"
	"fmt"
	"os"
	"strconv"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"sealgate/shared/keys"
	"sealgate/shared/pgcluster"
	"sealgate/shared/seal"
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
			"randfile":  randfile,
			"flipbyte":  flipbyte,
			"truncate":  truncate,
			"keyid":     keyid,
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

// randfile NAME SIZE: a file of SIZE random bytes (a stand-in video).
func randfile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: randfile NAME SIZE")
	}
	n, err := strconv.Atoi(args[1])
	ts.Check(err)
	b := make([]byte, n)
	rand.Read(b)
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), b, 0o600))
}

// flipbyte FILE OFFSET: invert one byte; a negative OFFSET counts from the end.
func flipbyte(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: flipbyte FILE OFFSET")
	}
	b, err := os.ReadFile(ts.MkAbs(args[0]))
	ts.Check(err)
	off, err := strconv.Atoi(args[1])
	ts.Check(err)
	if off < 0 {
		off += len(b)
	}
	b[off] ^= 0xff
	ts.Check(os.WriteFile(ts.MkAbs(args[0]), b, 0o600))
}

// truncate FILE SIZE: cut a file to SIZE bytes.
func truncate(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: truncate FILE SIZE")
	}
	n, err := strconv.ParseInt(args[1], 10, 64)
	ts.Check(err)
	ts.Check(os.Truncate(ts.MkAbs(args[0]), n))
}

// keyid VAR PUB: sets $VAR to the key id (sha256:…) of the signing.pub
// PUB, as a hand-over slip prints it.
func keyid(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: keyid VAR PUB")
	}
	pub, err := keys.ReadSigningPub(ts.MkAbs(args[1]))
	ts.Check(err)
	ts.Setenv(args[0], seal.KeyID(pub))
}
