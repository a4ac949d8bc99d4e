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
