package pgcluster

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
)

// ErrNoBinaries reports that the PostgreSQL server binaries are not installed.
var ErrNoBinaries = errors.New("pgcluster: PostgreSQL server binaries (initdb, postgres) not found; install them with `make deps` (Debian package postgresql)")

// Binaries are the PostgreSQL server programs a cluster is run with.
type Binaries struct {
	Initdb   string
	Postgres string
}

// FindBinaries locates initdb and postgres: in dir when it is set, else on
// PATH, else in the newest /usr/lib/postgresql/N/bin (where Debian installs
// them without putting them on PATH).
func FindBinaries(dir string) (Binaries, error) {
	if dir != "" {
		b := Binaries{Initdb: filepath.Join(dir, "initdb"), Postgres: filepath.Join(dir, "postgres")}
		for _, p := range []string{b.Initdb, b.Postgres} {
			if _, err := os.Stat(p); err != nil {
				return Binaries{}, fmt.Errorf("%w: %v", ErrNoBinaries, err)
			}
		}
		return b, nil
	}
	initdb, err1 := exec.LookPath("initdb")
	postgres, err2 := exec.LookPath("postgres")
	if err1 == nil && err2 == nil {
		return Binaries{Initdb: initdb, Postgres: postgres}, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return majorOf(dirs[i]) > majorOf(dirs[j]) })
	for _, d := range dirs {
		if b, err := FindBinaries(d); err == nil {
			return b, nil
		}
	}
	return Binaries{}, ErrNoBinaries
}

// majorOf reads N from /usr/lib/postgresql/N/bin; 0 when it is not a number.
func majorOf(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

// FindProgram locates another PostgreSQL program (pg_dump, pg_restore) the
// way FindBinaries does: in dir when it is set, else on PATH, else in the
// newest /usr/lib/postgresql/N/bin.
func FindProgram(dir, name string) (string, error) {
	missing := fmt.Errorf("pgcluster: %s not found; install it with `make deps` (Debian package postgresql-client, which postgresql brings)", name)
	if dir != "" {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%w: %v", missing, err)
		}
		return p, nil
	}
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return majorOf(dirs[i]) > majorOf(dirs[j]) })
	for _, d := range dirs {
		if p := filepath.Join(d, name); fileExists(p) {
			return p, nil
		}
	}
	return "", missing
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
