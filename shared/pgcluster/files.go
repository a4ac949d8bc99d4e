package pgcluster

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

func credentialFor(name string) (*syscall.Credential, error) {
	if name == "" {
		name = "postgres"
	}
	u, err := user.Lookup(name)
	if err != nil {
		return nil, fmt.Errorf("pgcluster: running as root, postgres must run as an unprivileged user: %w (install PostgreSQL with `make deps`, which creates the user postgres, or set database.private.user)", err)
	}
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	gid, _ := strconv.ParseUint(u.Gid, 10, 32)
	if uid == 0 {
		return nil, fmt.Errorf("pgcluster: database.private.user %q is root; postgres must run unprivileged", name)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), NoSetGroups: true}, nil
}

// makeDirs creates data/ and run/ with mode 0700, owned by the server's user,
// and checks that user can reach them.
func (c *Cluster) makeDirs() error {
	if err := os.MkdirAll(c.opts.Dir, 0o711); err != nil {
		return fmt.Errorf("pgcluster: %w", err)
	}
	for _, d := range []string{c.dataDir(), c.runDir()} {
		if err := os.Mkdir(d, 0o700); err != nil && !os.IsExist(err) {
			return fmt.Errorf("pgcluster: %w", err)
		}
		if err := os.Chmod(d, 0o700); err != nil {
			return fmt.Errorf("pgcluster: %w", err)
		}
		if c.cred != nil {
			if err := os.Chown(d, int(c.cred.Uid), int(c.cred.Gid)); err != nil {
				return fmt.Errorf("pgcluster: %w", err)
			}
		}
	}
	if c.cred == nil {
		return nil
	}
	// Every ancestor must be searchable by the server's user.
	for d := c.opts.Dir; ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil {
			return fmt.Errorf("pgcluster: %w", err)
		}
		st := fi.Sys().(*syscall.Stat_t)
		searchable := fi.Mode().Perm()&0o001 != 0 ||
			(st.Uid == c.cred.Uid && fi.Mode().Perm()&0o100 != 0) ||
			(st.Gid == c.cred.Gid && fi.Mode().Perm()&0o010 != 0)
		if !searchable {
			return fmt.Errorf("pgcluster: the database user (uid %d) cannot reach %s (mode %#o); allow traversal with chmod o+x %s", c.cred.Uid, d, fi.Mode().Perm(), d)
		}
		if d == filepath.Dir(d) {
			return nil
		}
	}
}

// RunningPID reports the postmaster serving the cluster in dir, if one is alive.
func RunningPID(dir string) (int, bool) {
	b, err := os.ReadFile(filepath.Join(dir, "data", "postmaster.pid"))
	if err != nil {
		return 0, false
	}
	line, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil || pid <= 0 {
		return 0, false
	}
	comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if err != nil || !strings.HasPrefix(string(comm), "postgres") {
		return 0, false // stale file: postgres removes it itself on the next start
	}
	return pid, true
}

// serverReady reads the status line (the eighth) of postmaster.pid.
func serverReady(dataDir string) bool {
	b, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid"))
	if err != nil {
		return false
	}
	lines := strings.Split(string(b), "\n")
	return len(lines) >= 8 && strings.TrimSpace(lines[7]) == "ready"
}

// tailWriter forwards postgres's log lines to slog and keeps the last few for
// error messages.
type tailWriter struct {
	log  *slog.Logger
	mu   sync.Mutex
	buf  bytes.Buffer
	last []string
}

func newTailWriter(log *slog.Logger) *tailWriter { return &tailWriter{log: log} }

func (w *tailWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	for {
		line, err := w.buf.ReadString('\n')
		if err != nil {
			w.buf.WriteString(line) // incomplete: keep for the next write
			return len(p), nil
		}
		w.emit(strings.TrimRight(line, "\n"))
	}
}

func (w *tailWriter) emit(line string) {
	if line == "" {
		return
	}
	w.last = append(w.last, line)
	if len(w.last) > 20 {
		w.last = w.last[len(w.last)-20:]
	}
	level := slog.LevelInfo
	switch {
	case strings.Contains(line, "FATAL:"), strings.Contains(line, "PANIC:"), strings.Contains(line, "ERROR:"):
		level = slog.LevelError
	case strings.Contains(line, "WARNING:"):
		level = slog.LevelWarn
	}
	w.log.Log(context.Background(), level, line)
}

// Flush emits a final unterminated line.
func (w *tailWriter) Flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	sc := bufio.NewScanner(&w.buf)
	for sc.Scan() {
		w.emit(sc.Text())
	}
}

// Last returns the most recent lines postgres printed.
func (w *tailWriter) Last() string {
	if w == nil {
		return ""
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.Join(w.last, "\n")
}
