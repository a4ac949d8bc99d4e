package nftables_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// netns is a network namespace of the test's own, held by a file
// descriptor: it vanishes when the descriptor closes (t.Cleanup) or the
// process dies, so nothing outlives a failed or killed test.
type netns struct {
	name string
	f    *os.File
}

func newNetns(t *testing.T, name string) *netns {
	t.Helper()
	n := &netns{name: name}
	// A locked thread unshares into the new namespace and is then thrown
	// away (never unlocked), so no other goroutine ever runs in it.
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		errc <- func() error {
			if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
				return fmt.Errorf("new network namespace: %w", err)
			}
			f, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()))
			n.f = f
			return err
		}()
	}()
	if err := <-errc; err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	t.Cleanup(func() { n.f.Close() })
	n.run(t, "ip", "link", "set", "lo", "up")
	return n
}

// run runs a command inside the namespace; other namespaces given are open
// in the command as /proc/self/fd/4, 5, …
func (n *netns) run(t *testing.T, argv ...string) string {
	t.Helper()
	out, err := n.exec(nil, argv...)
	if err != nil {
		t.Fatalf("%s: %v: %v\n%s", n.name, argv, err, out)
	}
	return out
}

func (n *netns) exec(others []*netns, argv ...string) (string, error) {
	cmd := exec.Command("nsenter", append([]string{"--net=/proc/self/fd/3", "--"}, argv...)...)
	cmd.ExtraFiles = []*os.File{n.f}
	for _, o := range others {
		cmd.ExtraFiles = append(cmd.ExtraFiles, o.f)
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// veth joins two namespaces with a veth pair: aDev/aAddr in a, bDev/bAddr
// in b (addresses with their prefix length).
func veth(t *testing.T, a *netns, aDev, aAddr string, b *netns, bDev, bAddr string) {
	t.Helper()
	if out, err := a.exec([]*netns{b}, "ip", "link", "add", aDev, "type", "veth", "peer", "name", bDev, "netns", "/proc/self/fd/4"); err != nil {
		t.Fatalf("veth %s-%s: %v\n%s", a.name, b.name, err, out)
	}
	a.run(t, "ip", "addr", "add", aAddr, "dev", aDev)
	a.run(t, "ip", "link", "set", aDev, "up")
	b.run(t, "ip", "addr", "add", bAddr, "dev", bDev)
	b.run(t, "ip", "link", "set", bDev, "up")
}

// do runs f with the calling goroutine inside the namespace: sockets f
// opens belong to it for good (as transfer/linkemu's Side.Do).
func (n *netns) do(f func() error) error {
	runtime.LockOSThread()
	orig, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()))
	if err != nil {
		runtime.UnlockOSThread()
		return err
	}
	defer orig.Close()
	if err := unix.Setns(int(n.f.Fd()), unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("enter %s: %w", n.name, err)
	}
	ferr := f()
	if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
		// The thread stays locked and dies with the goroutine.
		return errors.Join(ferr, fmt.Errorf("leave %s: %w", n.name, err))
	}
	runtime.UnlockOSThread()
	return ferr
}

// needTools fails the test, naming the Debian package, if a tool is missing.
func needTools(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("the firewall test needs root (network namespaces, nft); CI runs as root")
	}
	for tool, pkg := range map[string]string{"nft": "nftables", "ip": "iproute2", "nsenter": "util-linux"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found: apt-get install %s (make deps)", tool, pkg)
		}
	}
}

// fill sets each define of an nft rule set, as install.sh does: the line
// "define NAME = …" is replaced whole.
func fill(t *testing.T, src string, defs map[string]string) string {
	t.Helper()
	lines := strings.Split(src, "\n")
	for name, value := range defs {
		found := false
		for i, l := range lines {
			if strings.HasPrefix(l, "define "+name+" = ") {
				lines[i], found = "define "+name+" = "+value, true
			}
		}
		if !found {
			t.Fatalf("no define %s", name)
		}
	}
	return strings.Join(lines, "\n")
}
