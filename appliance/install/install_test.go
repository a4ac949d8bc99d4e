// Package install_test runs appliance/install.sh into staging roots: an
// outer and an inner, paired with each other through --peer-keys as
// docs/install.md tells the installer to, with the real binaries, and checks
// users, files, modes, the filled firewall and the configs the daemons would
// load.
package install_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"sealgate/shared/config"
	"sealgate/shared/keys"
	"sealgate/shared/update"
)

func TestShellcheck(t *testing.T) {
	if _, err := exec.LookPath("shellcheck"); err != nil {
		t.Fatal("shellcheck not found: apt-get install shellcheck (make deps)")
	}
	if out, err := exec.Command("shellcheck", "../install.sh").CombinedOutput(); err != nil {
		t.Fatalf("shellcheck ../install.sh: %v\n%s", err, out)
	}
}

func TestInstallPairsStagingRoots(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("install.sh runs as root; so does this test (CI runs as root)")
	}
	for _, tool := range []string{"systemd-sysusers", "nft"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found: apt-get install %s (make deps)", tool, map[string]string{"systemd-sysusers": "systemd", "nft": "nftables"}[tool])
		}
	}
	dir := t.TempDir()
	bin, trip := binaries(t, dir)
	hostPasswd, _ := os.ReadFile("/etc/passwd")
	outer, inner := filepath.Join(dir, "outer"), filepath.Join(dir, "inner")
	outerKeys, innerKeys := filepath.Join(outer, "var/lib/sealgate-outer/keys"), filepath.Join(inner, "var/lib/sealgate-inner/keys")
	outerArgs := []string{"--side", "outer", "--root", outer, "--bin", bin, "--boundary-if", "wg0",
		"--inner-addrs", "192.0.2.1,192.0.2.5", "--cctv-net", "10.20.0.0/16", "--tcp-ports", "none"}

	// The order of docs/install.md: the outer, the inner with the outer's
	// public files, the outer again with the inner's.
	run(t, trip, outerArgs...)
	// Before pairing the daemon starts too (systemctl restarts it): its
	// config loads, with no peers yet.
	if oc, err := config.LoadOuter(filepath.Join(outer, "etc/sealgate/outer.yaml"), nil); err != nil || len(oc.Transfer.Peers) != 0 {
		t.Fatalf("the outer's config before pairing: %v, peers %v", err, oc)
	}
	out := run(t, trip, "--side", "inner", "--root", inner, "--bin", bin, "--boundary-if", "eth1",
		"--outer-addr", "192.0.2.2", "--cctv-net", "10.20.0.0/16", "--tcp-ports", "22", "--peer-keys", outerKeys)
	outerFP := fingerprint(t, filepath.Join(outerKeys, keys.TransferCert))
	if !strings.Contains(out, keys.Grouped(outerFP)) {
		t.Errorf("the inner's install does not print the outer's transfer fingerprint for reading aloud:\n%s", out)
	}
	pairOuter := append(outerArgs, "--peer-keys", innerKeys, "--peer-name", "city-hall")
	run(t, trip, pairOuter...)
	before, _ := os.ReadFile(filepath.Join(outerKeys, "license.key"))
	run(t, trip, pairOuter...) // again: nothing changes
	after, _ := os.ReadFile(filepath.Join(outerKeys, "license.key"))
	if !bytes.Equal(before, after) {
		t.Error("a second run replaced the outer's keys")
	}

	modes := map[string]fs.FileMode{
		"etc/sealgate": 0o750, "etc/sealgate/peers": 0o750, "etc/sealgate/inner.yaml": 0o640,
		"etc/sealgate/sealgate-inner.nft": 0o640, "etc/sealgate/peers/outer/license.pub": 0o644,
		"var/lib/sealgate-inner": 0o711, "var/lib/sealgate-inner/keys": 0o700,
		"var/lib/sealgate-inner/keys/signing.key": 0o600, "var/lib/sealgate-inner/keys/transfer.key": 0o600,
		"var/lib/sealgate-inner/keys/watermark.key": 0o600, "var/lib/sealgate-inner/keys/signing.pub": 0o644,
		"opt/sealgate-inner/current/sealgate-inner": 0o755, "etc/systemd/system/sealgate-inner.service": 0o644,
		"etc/sysctl.d/60-sealgate-transfer.conf": 0o644, "etc/systemd/journald.conf.d/60-sealgate.conf": 0o644,
		"usr/lib/sysusers.d/sealgate.conf": 0o644, "etc/nftables.conf": 0o755,
	}
	for rel, want := range modes {
		checkMode(t, inner, rel, want)
		if o := strings.ReplaceAll(rel, "inner", "outer"); !strings.Contains(rel, "sysusers") && !strings.Contains(rel, "watermark") && !strings.Contains(rel, "signing") && !strings.Contains(rel, "peers/outer") {
			checkMode(t, outer, o, want)
		}
	}
	checkMode(t, outer, "var/lib/sealgate-outer/keys/license.key", 0o600)
	// The release layout update apply keeps, which the unit runs; the CLI linked to it.
	for side, root := range map[string]string{"inner": inner, "outer": outer} {
		if cur, _, err := update.Versions(filepath.Join(root, "opt/sealgate-"+side)); err != nil || cur == "" {
			t.Errorf("the %s's installed release: %q, %v", side, cur, err)
		}
		if l, err := os.Readlink(filepath.Join(root, "usr/local/bin/sealgate-"+side)); err != nil || l != "/opt/sealgate-"+side+"/current/sealgate-"+side {
			t.Errorf("the %s's CLI link: %q, %v", side, l, err)
		}
		if unit := read(t, root, "etc/systemd/system/sealgate-"+side+".service"); !strings.Contains(unit, "ExecStart=/opt/sealgate-"+side+"/current/sealgate-"+side+" serve") {
			t.Errorf("the %s's unit runs something else", side)
		}
	}
	checkMode(t, outer, "etc/sealgate/peers/city-hall/signing.pub", 0o644)

	// Users: the decoders' user in the inner's staging root only, and the
	// machine's own users untouched.
	passwd, err := os.ReadFile(filepath.Join(inner, "etc/passwd"))
	if err != nil || !strings.Contains(string(passwd), "sealgate-child:x:") || !strings.Contains(string(passwd), ":/nonexistent:/usr/sbin/nologin") {
		t.Errorf("inner staging etc/passwd: %v\n%s", err, passwd)
	}
	if _, err := os.Stat(filepath.Join(outer, "etc/passwd")); err == nil {
		t.Error("the outer needs no user of its own, yet its staging root has an etc/passwd")
	}
	if now, _ := os.ReadFile("/etc/passwd"); !bytes.Equal(now, hostPasswd) {
		t.Error("installing into staging roots changed this machine's /etc/passwd")
	}

	// The firewall, filled from the flags; no SSH on the outer (--tcp-ports none).
	innerNft := read(t, inner, "etc/sealgate/sealgate-inner.nft")
	for _, want := range []string{`define BOUNDARY_IF = "eth1"`, "define OUTER_ADDR = 192.0.2.2", "define CCTV_TCP_PORTS = { 22, 8443 }", "define CCTV_NET = 10.20.0.0/16"} {
		if !strings.Contains(innerNft, want+"\n") {
			t.Errorf("inner rule set lacks %q", want)
		}
	}
	outerNft := read(t, outer, "etc/sealgate/sealgate-outer.nft")
	for _, want := range []string{`define BOUNDARY_IF = "wg0"`, "define INNER_ADDRS = { 192.0.2.1, 192.0.2.5 }", "define HTTPS_PORT = 443"} {
		if !strings.Contains(outerNft, want+"\n") {
			t.Errorf("outer rule set lacks %q", want)
		}
	}
	if strings.Contains(outerNft, "tcp dport $POLICE_TCP_PORTS accept") {
		t.Error("--tcp-ports none left the outer's SSH rule in place")
	}
	if conf := read(t, inner, "etc/nftables.conf"); !strings.Contains(conf, `include "/etc/sealgate/sealgate-inner.nft"`) {
		t.Errorf("etc/nftables.conf does not load the rule set:\n%s", conf)
	}
	if j := read(t, inner, "etc/systemd/journald.conf.d/60-sealgate.conf"); !strings.Contains(j, "Storage=persistent") || !strings.Contains(j, "MaxRetentionSec=") {
		t.Errorf("journald drop-in:\n%s", j)
	}

	// The configs load as the daemons load them, and pin each other's keys.
	ic, err := config.LoadInner(filepath.Join(inner, "etc/sealgate/inner.yaml"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if ic.Transfer.OuterAddress != "192.0.2.2:4433" || ic.Transfer.OuterFingerprint != outerFP || ic.Transfer.OuterLicense != "/etc/sealgate/peers/outer/license.pub" {
		t.Errorf("inner transfer config: %+v", ic.Transfer)
	}
	oc, err := config.LoadOuter(filepath.Join(outer, "etc/sealgate/outer.yaml"), nil)
	if err != nil {
		t.Fatal(err)
	}
	innerFP := fingerprint(t, filepath.Join(innerKeys, keys.TransferCert))
	if p := oc.Transfer.Peers; len(p) != 1 || p[0].Name != "city-hall" || p[0].TransferFingerprint != innerFP || p[0].SigningPub != "/etc/sealgate/peers/city-hall/signing.pub" {
		t.Errorf("outer peers (want one, city-hall, %s): %+v", innerFP, p)
	}
	if oc.Transfer.Listen != "0.0.0.0:4433" || oc.Portal.Listen != "0.0.0.0:443" {
		t.Errorf("outer listeners: transfer %s, portal %s", oc.Transfer.Listen, oc.Portal.Listen)
	}
	if b, err := os.ReadFile(trip); err == nil {
		t.Errorf("--root ran commands that change the machine:\n%s", b)
	}
}

// TestInstallRefusesBadFlags: values end up in nft and YAML, so each is
// checked first and nothing is written.
func TestInstallRefusesBadFlags(t *testing.T) {
	dir := t.TempDir()
	bin, trip := binaries(t, dir)
	root := filepath.Join(dir, "root")
	base := []string{"--side", "outer", "--root", root, "--bin", bin, "--cctv-net", "10.20.0.0/16"}
	for _, bad := range [][]string{
		{"--boundary-if", "wg0", "--inner-addrs", "192.0.2.1; flush ruleset"},
		{"--boundary-if", `wg0"`, "--inner-addrs", "192.0.2.1"},
		{"--boundary-if", "wg0", "--inner-addrs", "192.0.2.1", "--https-port", "70000"},
		{"--boundary-if", "wg0", "--inner-addrs", "192.0.2.1", "--peer-keys", dir},
	} {
		cmd := exec.Command("../install.sh", append(base, bad...)...)
		cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(trip)+"/tripwire:"+os.Getenv("PATH"))
		if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "install.sh: ") {
			t.Errorf("%v: want a refusal, got %v\n%s", bad, err, out)
		}
	}
	if _, err := os.Stat(root); err == nil {
		t.Error("a refused install wrote into its root")
	}
}

// binaries builds sealgate-inner and sealgate-outer (as make build does,
// without its release flags) into a directory kept between runs, so go
// build relinks only when the code changed, and writes a tripwire directory
// of the commands a staging install must never run; trip is the file they
// write to.
var (
	built    sync.Once
	buildErr error
)

func binaries(t *testing.T, dir string) (bin, trip string) {
	t.Helper()
	cache, err := os.UserCacheDir()
	if err != nil {
		t.Fatal(err)
	}
	wd, _ := os.Getwd()
	sum := sha256.Sum256([]byte(wd)) // one per checkout: worktrees build side by side
	bin = filepath.Join(cache, "sealgate-install-test", hex.EncodeToString(sum[:8]))
	built.Do(func() {
		for name, cgo := range map[string]string{"sealgate-inner": "1", "sealgate-outer": "0"} {
			build := exec.Command("go", "build", "-o", filepath.Join(bin, name), "../cmd/"+name)
			build.Env = append(os.Environ(), "CGO_ENABLED="+cgo)
			if out, err := build.CombinedOutput(); err != nil {
				buildErr = fmt.Errorf("go build %s: %w\n%s", name, err, out)
				return
			}
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	wire := filepath.Join(dir, "tripwire")
	trip = filepath.Join(dir, "tripped")
	if err := os.Mkdir(wire, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"systemctl", "apt-get", "sysctl", "useradd", "groupadd"} {
		script := "#!/bin/sh\necho " + name + ` "$@" >> ` + trip + "\nexit 1\n"
		if err := os.WriteFile(filepath.Join(wire, name), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return bin, trip
}

func run(t *testing.T, trip string, args ...string) string {
	t.Helper()
	cmd := exec.Command("../install.sh", args...)
	cmd.Env = append(os.Environ(), "PATH="+filepath.Join(filepath.Dir(trip), "tripwire")+":"+os.Getenv("PATH"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("install.sh %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func checkMode(t *testing.T, root, rel string, want fs.FileMode) {
	t.Helper()
	fi, err := os.Stat(filepath.Join(root, rel))
	if err != nil {
		t.Errorf("%s: %v", rel, err)
		return
	}
	if fi.Mode().Perm() != want {
		t.Errorf("%s in %s: mode %#o, want %#o", rel, filepath.Base(root), fi.Mode().Perm(), want)
	}
}

func read(t *testing.T, root, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func fingerprint(t *testing.T, cert string) string {
	t.Helper()
	fp, err := keys.TransferFingerprint(cert)
	if err != nil {
		t.Fatal(err)
	}
	return fp
}
