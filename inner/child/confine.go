package child

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// DefaultUser is the system user children run as when the daemon is root.
const DefaultUser = "sealgate-child"

// Config is how the daemon confines its children.
type Config struct {
	// User is the unprivileged system user a child of a root daemon runs
	// as; empty: [DefaultUser]. It must exist: a root daemon never starts
	// a decoder as root.
	User string
	// MemoryMB caps the memory a child may map (RLIMIT_DATA); 0: 4096.
	MemoryMB int
	// CPUTime caps the processor time a child may use (RLIMIT_CPU); 0: 6 h,
	// the render of an hour of 1080p on both cores with room to spare.
	CPUTime time.Duration
}

// confinement is a resolved Config: who children run as and their limits.
type confinement struct {
	root     bool // the daemon is root: children change user and network
	uid, gid uint32
	user     string
	dataMax  uint64 // bytes
	cpuMax   uint64 // seconds
}

var (
	confMu sync.Mutex
	conf   *confinement // nil until Configure or the first child
)

// Configure sets how children are confined. A root daemon calls it at
// start, so a missing user stops the start instead of its first job.
func Configure(c Config) error {
	r, err := resolve(c)
	if err != nil {
		return err
	}
	confMu.Lock()
	conf = r
	confMu.Unlock()
	return nil
}

// current is the configured confinement, or the default one.
func current() (*confinement, error) {
	confMu.Lock()
	defer confMu.Unlock()
	if conf == nil {
		r, err := resolve(Config{})
		if err != nil {
			return nil, err
		}
		conf = r
	}
	return conf, nil
}

func resolve(c Config) (*confinement, error) {
	if c.User == "" {
		c.User = DefaultUser
	}
	if c.MemoryMB == 0 {
		c.MemoryMB = 4096
	}
	if c.CPUTime == 0 {
		c.CPUTime = 6 * time.Hour
	}
	if c.MemoryMB < 64 || c.CPUTime < time.Second {
		return nil, fmt.Errorf("child: limits of %d MB and %v are too small to decode anything", c.MemoryMB, c.CPUTime)
	}
	r := &confinement{root: os.Geteuid() == 0, user: c.User,
		dataMax: uint64(c.MemoryMB) << 20, cpuMax: uint64(c.CPUTime.Round(time.Second) / time.Second)}
	if !r.root {
		return r, nil // nothing to drop: children run as the daemon's own user
	}
	u, err := user.Lookup(c.User)
	var unknown user.UnknownUserError
	if errors.As(err, &unknown) {
		return nil, fmt.Errorf("child: user %q does not exist; a root daemon runs its decoders only as that user: "+
			"create it (`make deps`, or useradd --system --no-create-home --shell /usr/sbin/nologin %s)", c.User, c.User)
	}
	if err != nil {
		return nil, fmt.Errorf("child: look up user %q: %w", c.User, err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err1 != nil || err2 != nil || uid == 0 || gid == 0 {
		return nil, fmt.Errorf("child: user %q is uid %s gid %s: children need an unprivileged user", c.User, u.Uid, u.Gid)
	}
	r.uid, r.gid = uint32(uid), uint32(gid)
	return r, nil
}

// sysProcAttr is how a child starts: in its own process group (killed as
// one), dying with the daemon, and, under a root daemon, as the child user
// with no supplementary groups in a network namespace of its own (only a
// loopback that is down: no network at all).
func (c *confinement) sysProcAttr() *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if c.root {
		a.Credential = &syscall.Credential{Uid: c.uid, Gid: c.gid, Groups: []uint32{}}
		a.Cloneflags = syscall.CLONE_NEWNET
	}
	return a
}

// envKeep are the variables a child inherits. Everything else stays in
// the daemon: its environment may carry configuration overrides such as a
// database URL with its password.
var envKeep = []string{"PATH", "LANG", "TZ", "SEALGATE_MODELS", "SEALGATE_ASSETS", "GORACE", "GOCOVERDIR", "GOTRACEBACK", "LD_LIBRARY_PATH"}

// environ is a child's environment: the kept variables, the limits it
// applies to itself (Env), and tmp for its temporary files.
func (c *confinement) environ(tmp string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		for _, keep := range envKeep {
			if k == keep || strings.HasPrefix(k, "LC_") {
				env = append(env, kv)
				break
			}
		}
	}
	if tmp != "" {
		env = append(env, "TMPDIR="+tmp)
	}
	return append(env, fmt.Sprintf("%s=data=%d,cpu=%d", Env, c.dataMax, c.cpuMax))
}
