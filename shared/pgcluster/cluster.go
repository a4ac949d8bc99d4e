// Package pgcluster runs a private PostgreSQL cluster from the system's
// binaries: the appliance's own database when no server URL is configured,
// and the throwaway database of the test harness.
//
// # Layout
//
// A cluster lives in one directory: data/ is PGDATA (mode 0700) and run/ holds
// the unix socket (mode 0700). The server listens on that socket only
// (listen_addresses is empty), and local connections are trusted: the socket
// directory's mode is the access control, as for an SSH agent socket.
//
// # Roles
//
// initdb's superuser only administers the cluster. Every start makes sure
// of two unprivileged roles ([EnsureRoles]): [OwnerRole] owns the database
// and its objects and runs the migrations, and [AppRole] is what the daemon
// serves as, with only the privileges the migrations grant it (shared/pgdb):
// a bug or injection in the daemon's queries cannot rewrite the audit log.
// Trust still lets the socket's user connect as any role; the anchor of the
// audit chain (shared/audit) covers that.
//
// # Running as root
//
// PostgreSQL refuses to run as root. When the calling process is root, initdb
// and postgres run as an unprivileged user (Options.User, "postgres" by
// default) who owns data/ and run/; the parent directory must let that user
// traverse it (mode 0711 is enough).
//
// # Lifetime
//
// [Start] initialises the cluster when data/ is empty, starts postgres in its
// own process group (so a terminal's Ctrl-C reaches the daemon, which stops
// the database last), restarts it if it dies, and [Cluster.Close] stops it
// with a fast shutdown. If the daemon itself is killed, the kernel sends
// postgres SIGINT (Pdeathsig), so no server is left behind.
package pgcluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// Superuser is the database role initdb creates. It administers the
// cluster; the daemon serves as [AppRole] and migrates as [OwnerRole].
const Superuser = "sealgate"

// maxSocketPath is the longest unix socket path Linux accepts (sun_path less NUL).
const maxSocketPath = 107

// Options describe a private cluster.
type Options struct {
	Dir      string // cluster root; data/ and run/ are created below it
	BinDir   string // where initdb and postgres are; empty: search (see FindBinaries)
	User     string // OS user postgres runs as when we are root; default "postgres"
	Database string // database created on first start; default "sealgate"
	// Ephemeral trades durability for speed (no fsync): for test clusters only.
	Ephemeral bool
	Log       *slog.Logger
}

// Cluster is a running private PostgreSQL server.
type Cluster struct {
	opts Options
	bins Binaries
	cred *syscall.Credential // nil when not root
	log  *slog.Logger

	mu     sync.Mutex
	proc   *exec.Cmd
	exited chan struct{} // closed when proc has exited
	stderr *tailWriter

	stopSupervisor context.CancelFunc
	supervisorDone chan struct{}
	closeOnce      sync.Once
	closeErr       error
}

// ErrRunning reports that another process already runs a server on the data directory.
var ErrRunning = errors.New("pgcluster: another postgres process already runs this cluster")

// Start initialises the cluster if needed, starts postgres, waits until it
// accepts connections, creates the database and supervises the server until
// Close. It fails with ErrRunning if another process serves the directory.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	c, err := prepare(opts)
	if err != nil {
		return nil, err
	}
	if pid, ok := RunningPID(opts.Dir); ok {
		return nil, fmt.Errorf("%w (pid %d, data directory %s)", ErrRunning, pid, c.dataDir())
	}
	if err := c.initdb(ctx); err != nil {
		return nil, err
	}
	if err := c.start(); err != nil {
		return nil, err
	}
	if err := c.waitReady(ctx); err != nil {
		c.stop(5 * time.Second)
		return nil, err
	}
	if err := Provision(ctx, c.opts.Dir, c.opts.Database); err != nil {
		c.stop(5 * time.Second)
		return nil, err
	}
	supCtx, cancel := context.WithCancel(context.Background())
	c.stopSupervisor, c.supervisorDone = cancel, make(chan struct{})
	go c.supervise(supCtx)
	return c, nil
}

func prepare(opts Options) (*Cluster, error) {
	if opts.Dir == "" {
		return nil, errors.New("pgcluster: no directory given")
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("pgcluster: %w", err)
	}
	opts.Dir = dir
	if opts.Database == "" {
		opts.Database = "sealgate"
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if sock := filepath.Join(dir, "run", ".s.PGSQL.5432"); len(sock) > maxSocketPath {
		return nil, fmt.Errorf("pgcluster: socket path %s is longer than %d bytes; choose a shorter data directory", sock, maxSocketPath)
	}
	bins, err := FindBinaries(opts.BinDir)
	if err != nil {
		return nil, err
	}
	c := &Cluster{opts: opts, bins: bins, log: opts.Log.With(slog.String("component", "postgres"))}
	if os.Geteuid() == 0 {
		if c.cred, err = credentialFor(opts.User); err != nil {
			return nil, err
		}
	}
	if err := c.makeDirs(); err != nil {
		return nil, err
	}
	return c, nil
}

// URL is the connection string for the cluster's database as the superuser.
func (c *Cluster) URL() string { return SocketURL(c.opts.Dir, c.opts.Database) }

// SocketURL is the connection string for database db of the cluster in dir,
// as the superuser.
func SocketURL(dir, db string) string { return socketURL(dir, db, Superuser) }

func socketURL(dir, db, role string) string {
	q := url.Values{"host": {filepath.Join(dir, "run")}, "user": {role}}
	return (&url.URL{Scheme: "postgres", Path: "/" + db, RawQuery: q.Encode()}).String()
}

func (c *Cluster) dataDir() string { return filepath.Join(c.opts.Dir, "data") }
func (c *Cluster) runDir() string  { return filepath.Join(c.opts.Dir, "run") }

func (c *Cluster) initdb(ctx context.Context) error {
	if _, err := os.Stat(filepath.Join(c.dataDir(), "PG_VERSION")); err == nil {
		return nil
	}
	args := []string{"-D", c.dataDir(), "-U", Superuser, "-E", "UTF8", "--locale=C",
		"--auth-local=trust", "--auth-host=reject", "--no-instructions"}
	if c.opts.Ephemeral {
		args = append(args, "--no-sync")
	}
	start := time.Now()
	cmd := exec.CommandContext(ctx, c.bins.Initdb, args...)
	c.configure(cmd)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("pgcluster: initdb %s: %w\n%s", c.dataDir(), err, out)
	}
	c.log.Info("initialised private database cluster", slog.String("dir", c.dataDir()), slog.Duration("took", time.Since(start)))
	return nil
}

func (c *Cluster) start() error {
	args := []string{"-D", c.dataDir(),
		"-c", "listen_addresses=",
		"-c", "unix_socket_directories=" + c.runDir(),
		"-c", "unix_socket_permissions=0700",
		"-c", "logging_collector=off",
		"-c", "jit=off", // small OLTP queries gain nothing; W^X service hardening forbids it
	}
	if c.opts.Ephemeral {
		args = append(args, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	cmd := exec.Command(c.bins.Postgres, args...)
	c.configure(cmd)
	tail := newTailWriter(c.log)
	cmd.Stdout, cmd.Stderr = tail, tail
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("pgcluster: start postgres: %w", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); tail.Flush(); close(exited) }()
	c.mu.Lock()
	c.proc, c.exited, c.stderr = cmd, exited, tail
	c.mu.Unlock()
	c.log.Info("started private database", slog.Int("pid", cmd.Process.Pid))
	return nil
}

// configure sets what every postgres program needs: its own process group,
// the unprivileged user when we are root, a working directory it can read,
// death with its parent, and a minimal environment.
func (c *Cluster) configure(cmd *exec.Cmd) {
	cmd.Dir = c.opts.Dir
	cmd.Env = []string{"LANG=C", "LC_ALL=C", "PATH=/usr/bin:/bin", "TZ=UTC"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGINT, Credential: c.cred}
}

func (c *Cluster) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	err := errors.New("not ready")
	for {
		// postmaster.pid's status line says "ready" once connections are
		// accepted; connecting earlier only makes postgres log FATALs.
		if serverReady(c.dataDir()) {
			var conn *pgx.Conn
			if conn, err = pgx.Connect(ctx, SocketURL(c.opts.Dir, "postgres")); err == nil {
				return conn.Close(ctx)
			}
		}
		c.mu.Lock()
		exited, tail := c.exited, c.stderr
		c.mu.Unlock()
		select {
		case <-exited:
			return fmt.Errorf("pgcluster: postgres exited during start-up:\n%s", tail.Last())
		case <-ctx.Done():
			return fmt.Errorf("pgcluster: postgres did not accept connections: %w (last error: %v)", ctx.Err(), err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// supervise restarts postgres when it dies while the cluster is open, with a
// capped backoff; the pool reconnects by itself once the server is back.
func (c *Cluster) supervise(ctx context.Context) {
	defer close(c.supervisorDone)
	backoff := 100 * time.Millisecond
	for {
		c.mu.Lock()
		exited := c.exited
		c.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-exited:
		}
		c.log.Error("private database exited unexpectedly; restarting", slog.String("last_output", c.stderr.Last()), slog.Duration("backoff", backoff))
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 30*time.Second)
		if err := c.start(); err != nil {
			c.log.Error("restart private database", slog.Any("error", err))
			continue
		}
		if err := c.waitReady(ctx); err == nil {
			backoff = 100 * time.Millisecond
		}
	}
}

// Close stops the server with a fast shutdown (SIGINT), escalating to an
// immediate shutdown and then SIGKILL if it does not stop in time. It is safe
// to call more than once.
func (c *Cluster) Close() error {
	c.closeOnce.Do(func() {
		if c.stopSupervisor != nil {
			c.stopSupervisor()
			<-c.supervisorDone
		}
		c.closeErr = c.stop(30 * time.Second)
	})
	return c.closeErr
}

func (c *Cluster) stop(grace time.Duration) error {
	c.mu.Lock()
	proc, exited := c.proc, c.exited
	c.mu.Unlock()
	if proc == nil {
		return nil
	}
	for _, step := range []struct {
		sig  syscall.Signal
		wait time.Duration
	}{{syscall.SIGINT, grace}, {syscall.SIGQUIT, 5 * time.Second}, {syscall.SIGKILL, 5 * time.Second}} {
		_ = proc.Process.Signal(step.sig)
		select {
		case <-exited:
			c.log.Info("stopped private database", slog.String("signal", step.sig.String()))
			return nil
		case <-time.After(step.wait):
			c.log.Warn("private database did not stop in time; escalating", slog.String("signal", step.sig.String()))
		}
	}
	return fmt.Errorf("pgcluster: postgres (pid %d) did not stop", proc.Process.Pid)
}
