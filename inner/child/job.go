package child

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Job is one child and the files it may touch. The daemon opens them and
// hands them over as descriptors; the child names each one
// /proc/self/fd/N. That path jumps straight to the file, so the
// directories above it can stay 0700 root: a child reaches no input of
// another job, no original and no key by path (docs/architecture.md,
// "Children").
type Job struct {
	c     *confinement
	files []*os.File // files[i] is the child's descriptor 3+i; files[0] is this executable
	dir   string     // the work directory, as the daemon sees it
	dirFD int        // its index in files
	names []string   // what the child's names stand for, for its error messages
}

// NewJob starts the files of a child: none yet but the program it runs.
func NewJob() (*Job, error) {
	c, err := current()
	if err != nil {
		return nil, err
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("child: find this executable: %w", err)
	}
	// Executed through its descriptor: the child user need not be able to
	// reach the directory it lies in (a test binary's is 0700 root).
	f, err := os.OpenFile(exe, unix.O_PATH, 0)
	if err != nil {
		return nil, fmt.Errorf("child: %w", err)
	}
	return &Job{c: c, files: []*os.File{f}, names: []string{fdPath(0), "sealgate-inner"}}, nil
}

// named puts f at the child's next descriptor; path is what it stands for.
func (j *Job) named(f *os.File, path string) string {
	name := fdPath(len(j.files))
	j.files = append(j.files, f)
	j.names = append(j.names, name, path)
	return name
}

// Explain is a child's message with the daemon's names for its files:
// "mask: /proc/self/fd/4: no video stream" names the clip. [Job.Run]'s
// errors are explained already.
func (j *Job) Explain(msg string) string {
	pairs := slices.Clone(j.names)
	slices.Reverse(pairs) // fd/13 before fd/1; Reverse swaps each pair's order too
	for i := 0; i < len(pairs); i += 2 {
		pairs[i], pairs[i+1] = pairs[i+1], pairs[i]
	}
	return strings.NewReplacer(pairs...).Replace(msg)
}

func fdPath(i int) string { return "/proc/self/fd/" + strconv.Itoa(3+i) }

// Input opens path for the child to read and returns the child's name for
// it. A root daemon gives the file to the child's group, read-only
// (0640): the descriptor lets the child reopen the file, as decoders do,
// without reaching its directory. The group stays; a child that has no
// descriptor for a file has no path to it.
func (j *Job) Input(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("child: input: %w", err)
	}
	if j.c.root {
		if err := j.share(f); err != nil {
			f.Close()
			return "", fmt.Errorf("child: input %s: %w", path, err)
		}
	}
	return j.named(f, path), nil
}

func (j *Job) share(f *os.File) error {
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return errors.New("not a regular file")
	}
	if st.Gid != j.c.gid {
		if err := unix.Fchown(int(f.Fd()), -1, int(j.c.gid)); err != nil {
			return err
		}
	}
	if mode := st.Mode&0o7777&^0o020 | 0o040; mode != st.Mode&0o7777 {
		return unix.Fchmod(int(f.Fd()), mode)
	}
	return nil
}

// WorkDir makes the child's own directory inside parent (which should be
// on the filesystem of the outputs' destination: [Job.Take] renames) and
// returns the child's name for it. The child writes its outputs there and
// nowhere else; Close removes it.
func (j *Job) WorkDir(parent string) (string, error) {
	if j.dir != "" {
		return "", errors.New("child: a job has one work directory")
	}
	d, err := os.MkdirTemp(parent, ".child-*")
	if err != nil {
		return "", fmt.Errorf("child: work directory: %w", err)
	}
	if j.c.root {
		if err := os.Chown(d, int(j.c.uid), int(j.c.gid)); err != nil {
			os.Remove(d)
			return "", fmt.Errorf("child: work directory: %w", err)
		}
	}
	f, err := os.Open(d)
	if err != nil {
		os.Remove(d)
		return "", fmt.Errorf("child: work directory: %w", err)
	}
	j.dir, j.dirFD = d, len(j.files)
	return j.named(f, d), nil
}

// Dir is the work directory as the daemon sees it; empty without one.
func (j *Job) Dir() string { return j.dir }

// open opens a file the child left in its work directory, refusing what a
// hostile child could leave instead of a plain file: a symbolic link (to a
// key, say) or a hard link to a file it did not write.
func (j *Job) open(name string) (*os.File, error) {
	if j.dir == "" || name != filepath.Base(name) {
		return nil, fmt.Errorf("child: %q is not in the work directory", name)
	}
	f, err := os.OpenFile(filepath.Join(j.dir, name), os.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("child: output: %w", err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		f.Close()
		return nil, fmt.Errorf("child: output: %w", err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG || st.Nlink != 1 || (j.c.root && st.Uid != j.c.uid) {
		f.Close()
		return nil, fmt.Errorf("child: output %s is not a plain file the child wrote", name)
	}
	return f, nil
}

// ReadFile reads a file the child wrote in its work directory, at most max
// bytes.
func (j *Job) ReadFile(name string, max int) ([]byte, error) {
	f, err := j.open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readCapped(f, max)
}

// Take moves a file the child wrote in its work directory to dst, made the
// daemon's own (0600) first, so the child keeps no hold on it.
func (j *Job) Take(name, dst string) error {
	f, err := j.open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	if j.c.root {
		if err := f.Chown(0, 0); err != nil {
			return fmt.Errorf("child: output: %w", err)
		}
	}
	if err := f.Chmod(0o600); err != nil {
		return fmt.Errorf("child: output: %w", err)
	}
	if err := os.Rename(f.Name(), dst); err != nil {
		return fmt.Errorf("child: output: %w", err)
	}
	return nil
}

// Close releases the job's descriptors and removes its work directory.
// Call it once the child has ended.
func (j *Job) Close() error {
	for _, f := range j.files {
		f.Close()
	}
	j.files = nil
	if j.dir != "" {
		if err := os.RemoveAll(j.dir); err != nil {
			return fmt.Errorf("child: remove the work directory: %w", err)
		}
		j.dir = ""
	}
	return nil
}

// Command returns the confined `sealgate-inner args…` of this job, killed
// (with anything it started) when ctx ends. The caller sets its standard
// streams and starts it.
func (j *Job) Command(ctx context.Context, args ...string) (*exec.Cmd, error) {
	if len(j.files) == 0 {
		return nil, errors.New("child: the job is closed")
	}
	cmd := exec.CommandContext(ctx, fdPath(0), args...)
	cmd.Args[0] = "sealgate-inner"
	cmd.ExtraFiles = j.files
	tmp := "" // the child's temporary files go in its work directory, if it has one
	if j.dir != "" {
		tmp = fdPath(j.dirFD)
	}
	cmd.Env = j.c.environ(tmp)
	cmd.SysProcAttr = j.c.sysProcAttr()
	cmd.Cancel = func() error { return killGroup(cmd) }
	return cmd, nil
}

// killGroup kills the child and whatever it started (its process group).
func killGroup(cmd *exec.Cmd) error {
	if cmd.Process == nil {
		return nil
	}
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return err
	}
	return nil
}

// cpuExceeded tells whether a child killed by SIGKILL had used up its
// processor time (the kernel's hard RLIMIT_CPU).
func (j *Job) cpuExceeded(st *os.ProcessState) bool {
	ws, ok := st.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		return false
	}
	return uint64((st.UserTime()+st.SystemTime()).Seconds()+0.5) >= j.c.cpuMax
}
