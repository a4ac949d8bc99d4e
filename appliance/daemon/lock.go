package daemon

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// lockName is the file in data_dir that `serve` and `restore` hold
// locked (flock) while they run: a restore must not replace the database
// and keys under a running daemon, whether its database is the private
// cluster or an external server (docs/backup.md).
const lockName = "daemon.lock"

// ErrDataDirBusy reports that another process holds data_dir's lock.
var ErrDataDirBusy = errors.New("the data directory is in use")

// lockDataDir takes data_dir's lock, which the kernel releases if the
// process dies; release gives it back.
func lockDataDir(dir string) (release func(), err error) {
	p := filepath.Join(dir, lockName)
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock data_dir: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		b, _ := os.ReadFile(p)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: %s is held by pid %s (a running daemon or restore); stop it first", ErrDataDirBusy, p, strings.TrimSpace(string(b)))
		}
		return nil, fmt.Errorf("lock data_dir: %w", err)
	}
	// The pid is for the message above, not the lock.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return func() { f.Close() }, nil
}
