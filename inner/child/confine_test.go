package child_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"sealgate/inner/child"
	"sealgate/shared/keys"
)

// seen is what a confined child reports of itself.
type seen struct {
	UID, GID   int
	Groups     []int
	Interfaces []string // name, then "up" when it is
	DataLimit  uint64
	CPULimit   uint64
	Dumpable   int
	Env        []string
	KeyFile    string // the error opening the key file, "" when it opened
	KeyDir     string // the error listing the key directory
	Input      string // what the input read back as
	Sibling    string // the error reading a file beside the input, by its path
}

// confined is the test binary's part as a child under test.
func confined(what string, args []string) {
	switch what {
	case "whoami": // keyDir, input, sibling
		var s seen
		s.UID, s.GID = os.Getuid(), os.Getgid()
		s.Groups, _ = os.Getgroups()
		ifs, err := net.Interfaces()
		if err != nil {
			fmt.Fprintln(os.Stderr, "sealgate-inner:", err)
			os.Exit(1)
		}
		for _, i := range ifs {
			s.Interfaces = append(s.Interfaces, i.Name)
			if i.Flags&net.FlagUp != 0 {
				s.Interfaces = append(s.Interfaces, "up")
			}
		}
		var r unix.Rlimit
		unix.Getrlimit(unix.RLIMIT_DATA, &r)
		s.DataLimit = r.Max
		unix.Getrlimit(unix.RLIMIT_CPU, &r)
		s.CPULimit = r.Max
		s.Dumpable, _ = unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0)
		s.Env = os.Environ()
		if f, err := os.Open(filepath.Join(args[0], "watermark.key")); err != nil {
			s.KeyFile = err.Error()
		} else {
			f.Close()
		}
		if _, err := os.ReadDir(args[0]); err != nil {
			s.KeyDir = err.Error()
		}
		b, err := os.ReadFile(args[1])
		s.Input = string(b)
		if err != nil {
			s.Input = err.Error()
		}
		if _, err := os.ReadFile(args[2]); err != nil {
			s.Sibling = err.Error()
		}
		json.NewEncoder(os.Stdout).Encode(s)
	case "write": // dir: a file, and a link to the key the daemon must not follow
		os.WriteFile(filepath.Join(args[0], "out.txt"), []byte("masked"), 0o644)
		os.Symlink(args[1], filepath.Join(args[0], "evil"))
	case "spin":
		for {
		}
	case "greedy":
		var keep [][]byte
		for range 256 {
			keep = append(keep, make([]byte, 64<<20))
		}
		fmt.Println(len(keep))
	}
	os.Exit(0)
}

// reachable makes t's temporary directory searchable by anyone, so what a
// child cannot reach below it is refused by the file's own directory.
func reachable(t *testing.T) string {
	t.Helper()
	d := t.TempDir()
	for p := d; p != "/" && p != os.TempDir(); p = filepath.Dir(p) {
		if err := os.Chmod(p, 0o711); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

// A child of a root daemon is not root, has no network and cannot reach
// the keys; it reads the input handed to it and nothing beside it. On the
// old code the child was root in the daemon's network namespace.
func TestChildIsConfined(t *testing.T) {
	dir := reachable(t)
	keyDir := filepath.Join(dir, "keys")
	if err := keys.InitInner(keyDir); err != nil {
		t.Fatal(err)
	}
	footage := filepath.Join(dir, "footage")
	if err := os.Mkdir(footage, 0o700); err != nil {
		t.Fatal(err)
	}
	in, sibling := filepath.Join(footage, "clip.mp4"), filepath.Join(footage, "other.mp4")
	for _, p := range []string{in, sibling} {
		if err := os.WriteFile(p, []byte("frames of "+filepath.Base(p)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("SEALGATE_INNER_DATABASE_URL", "postgres://sealgate:secret@db/inner")

	j, err := child.NewJob()
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	name, err := j.Input(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := j.Run(context.Background(), child.Options{MaxStdout: 64 << 10}, "whoami", keyDir, name, sibling)
	if err != nil {
		t.Fatal(err)
	}
	var s seen
	if err := json.Unmarshal(out, &s); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	t.Logf("child: uid %d gid %d groups %v interfaces %v limits %d B, %d s", s.UID, s.GID, s.Groups, s.Interfaces, s.DataLimit, s.CPULimit)
	if s.Input != "frames of clip.mp4" {
		t.Errorf("the child read its input as %q", s.Input)
	}
	if s.DataLimit == 0 || s.DataLimit == unix.RLIM_INFINITY || s.CPULimit != 6*3600 || s.Dumpable != 0 {
		t.Errorf("limits: data %d, cpu %d s, dumpable %d", s.DataLimit, s.CPULimit, s.Dumpable)
	}
	for _, kv := range s.Env {
		if strings.HasPrefix(kv, "SEALGATE_INNER_") && !strings.HasPrefix(kv, child.Env+"=") {
			t.Errorf("the child inherited the daemon's configuration: %q", kv)
		}
	}
	if os.Geteuid() != 0 {
		if s.UID != os.Getuid() {
			t.Errorf("a child of a daemon that is not root runs as uid %d, want the daemon's %d", s.UID, os.Getuid())
		}
		return // nothing to drop and no namespace to make: the rest needs root
	}
	if s.UID == 0 || s.GID == 0 || slices.Contains(s.Groups, 0) {
		t.Errorf("the child runs as uid %d gid %d groups %v", s.UID, s.GID, s.Groups)
	}
	if !slices.Equal(s.Interfaces, []string{"lo"}) && len(s.Interfaces) != 0 {
		t.Errorf("the child sees the network interfaces %v, want a loopback that is down", s.Interfaces)
	}
	eacces := syscall.EACCES.Error()
	if !strings.HasSuffix(s.KeyFile, eacces) || !strings.HasSuffix(s.KeyDir, eacces) {
		t.Errorf("the child's access to the key directory: open watermark.key: %q, list: %q; want %q", s.KeyFile, s.KeyDir, eacces)
	}
	if !strings.HasSuffix(s.Sibling, eacces) {
		t.Errorf("the child read a file beside its input by path: %q", s.Sibling)
	}
	var st unix.Stat_t
	if err := unix.Stat(in, &st); err != nil || st.Uid != 0 || st.Mode&0o777 != 0o640 || int(st.Gid) != s.GID {
		t.Errorf("the input is uid %d gid %d mode %o, want root, the child's group, 0640 (%v)", st.Uid, st.Gid, st.Mode&0o777, err)
	}
}

// What a child leaves in its work directory becomes the daemon's, 0600;
// a link it leaves there in place of an output is refused, not followed.
func TestJobTakesOnlyPlainFiles(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "secret.key")
	if err := os.WriteFile(key, []byte("k"), 0o600); err != nil {
		t.Fatal(err)
	}
	j, err := child.NewJob()
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	work, err := j.WorkDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := j.Run(context.Background(), child.Options{}, "write", work, key); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, "marked.txt")
	if err := j.Take("out.txt", dst); err != nil {
		t.Fatal(err)
	}
	var st unix.Stat_t
	if err := unix.Stat(dst, &st); err != nil || st.Uid != uint32(os.Geteuid()) || st.Mode&0o777 != 0o600 {
		t.Fatalf("the output is uid %d mode %o (%v)", st.Uid, st.Mode&0o777, err)
	}
	if err := j.Take("evil", filepath.Join(dir, "evil.txt")); err == nil {
		t.Fatal("Take moved a symbolic link the child left")
	}
	if b, err := j.ReadFile("evil", 10); err == nil {
		t.Fatalf("ReadFile followed the child's link: %q", b)
	}
	work0 := j.Dir()
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(work0); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the work directory is left: %v", err)
	}
}

// A child that spins past its processor time is killed by the kernel, and
// the error says so; one that asks for more memory than its limit dies
// saying that. The daemon goes on either way.
func TestChildLimits(t *testing.T) {
	defer child.Configure(child.Config{}) //nolint:errcheck // back to the defaults
	if err := child.Configure(child.Config{CPUTime: time.Second}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err := child.Run(context.Background(), child.Options{}, "spin")
	if !errors.Is(err, child.ErrCPUTime) || time.Since(start) > 30*time.Second {
		t.Fatalf("a spinning child: %v after %v, want ErrCPUTime", err, time.Since(start))
	}
	if err := child.Configure(child.Config{MemoryMB: 64}); err != nil {
		t.Fatal(err)
	}
	out, err := child.Run(context.Background(), child.Options{MaxStdout: 100}, "greedy")
	var ce *child.Error
	if !errors.As(err, &ce) || !strings.Contains(ce.Said, "out of memory") && !strings.Contains(ce.Said, "failed to allocate") /* the race detector's own words */ {
		t.Fatalf("a child past its memory: %q, %v", bytes.TrimSpace(out), err)
	}
	if _, err := child.Run(context.Background(), child.Options{MaxStdout: 100}, "echo", "still here"); err != nil {
		t.Fatal(err)
	}
}

// A root daemon with no child user refuses to start, rather than run its
// decoders as root.
func TestConfigureRefusesAMissingUser(t *testing.T) {
	defer child.Configure(child.Config{}) //nolint:errcheck // back to the defaults
	err := child.Configure(child.Config{User: "sealgate-no-such-user"})
	if os.Geteuid() == 0 && (err == nil || !strings.Contains(err.Error(), "useradd --system")) {
		t.Fatalf("Configure with a missing user as root: %v", err)
	}
	if os.Geteuid() != 0 && err != nil {
		t.Fatalf("Configure as uid %d: %v (a daemon that is not root changes no user)", os.Geteuid(), err)
	}
}

// ffmpeg started through the exec child is the confined child itself: it
// keeps the limits and, under a root daemon, the user (it reads both from
// its own /proc); any other program is refused.
func TestExecChildBecomesFFmpeg(t *testing.T) {
	read := func(file string) []byte {
		out, err := child.Run(context.Background(), child.Options{MaxStdout: 64 << 10}, child.ExecCommand,
			"ffmpeg", "-nostdin", "-v", "error", "-f", "data", "-i", file, "-map", "0", "-c", "copy", "-f", "data", "-")
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	limits, status := read("/proc/self/limits"), read("/proc/self/status")
	uid := regexp.MustCompile(`(?m)^Uid:\s+(\d+)\s`).FindSubmatch(status)
	if !regexp.MustCompile(`Max cpu time +21600 +21600 +seconds`).Match(limits) || uid == nil || (os.Geteuid() == 0 && string(uid[1]) == "0") {
		t.Fatalf("ffmpeg's own limits and status:\n%s\n%s", limits, status)
	}
	var err error
	_, err = child.Run(context.Background(), child.Options{}, child.ExecCommand, "sh", "-c", "id")
	var ce *child.Error
	if !errors.As(err, &ce) || !strings.Contains(ce.Said, "is not one of") {
		t.Fatalf("exec child of sh: %v", err)
	}
}
