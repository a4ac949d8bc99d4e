package update_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"sealgate/shared/update"
)

// release is a key pair and the files of a small release made at run time.
type release struct {
	dir  string
	keys []update.Key
	key  string // release.key
}

func newRelease(t testing.TB) *release {
	t.Helper()
	dir := t.TempDir()
	if _, err := update.Keygen(filepath.Join(dir, "key")); err != nil {
		t.Fatal(err)
	}
	ks, err := update.ReadKeys([]string{filepath.Join(dir, "key", "release.pub")})
	if err != nil {
		t.Fatal(err)
	}
	return &release{dir: dir, keys: ks, key: filepath.Join(dir, "key", "release.key")}
}

// bundle writes a bundle of version v for kind with a fake binary and SBOM.
func (r *release) bundle(t testing.TB, kind, version string) string {
	t.Helper()
	src := filepath.Join(r.dir, kind+"-"+version)
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	bin, sbom := filepath.Join(src, "sealgate-"+kind), filepath.Join(src, "sealgate-"+kind+".cdx.json")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\necho "+version+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(sbom, []byte(`{"bomFormat":"CycloneDX"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	priv, err := update.ReadPrivateKey(r.key)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(r.dir, kind+"-"+version+".tar.gz")
	if _, err := update.Write(out, update.Release{Kind: kind, Version: version, GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, Files: []string{bin, sbom}}, priv); err != nil {
		t.Fatal(err)
	}
	return out
}

func expect(installed string) update.Expect {
	return update.Expect{Kind: "inner", GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, Installed: installed}
}

func apply(t *testing.T, bundle, installDir string, keys []update.Key, want update.Expect) error {
	t.Helper()
	s, err := update.Stage(bundle, installDir, keys, want)
	if err != nil {
		return err
	}
	return s.Install(installDir)
}

func TestApplyThenRollback(t *testing.T) {
	r := newRelease(t)
	install := t.TempDir()
	if err := apply(t, r.bundle(t, "inner", "v1.1.0"), install, r.keys, expect("v1.0.0")); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(install, "current", "sealgate-inner"))
	if err != nil || string(got) != "#!/bin/sh\necho v1.1.0\n" {
		t.Fatalf("current/sealgate-inner = %q, %v", got, err)
	}
	if fi, _ := os.Stat(filepath.Join(install, "current", "sealgate-inner")); fi.Mode().Perm() != 0o755 {
		t.Errorf("binary mode %v, want 0755", fi.Mode().Perm())
	}
	if fi, _ := os.Stat(filepath.Join(install, "current", "sealgate-inner.cdx.json")); fi.Mode().Perm() != 0o644 {
		t.Errorf("SBOM mode %v, want 0644", fi.Mode().Perm())
	}
	for _, v := range []string{"v1.2.0", "v1.3.0"} {
		if err := apply(t, r.bundle(t, "inner", v), install, r.keys, expect(mustCurrent(t, install))); err != nil {
			t.Fatal(err)
		}
	}
	if cur, prev, _ := update.Versions(install); cur != "v1.3.0" || prev != "v1.2.0" {
		t.Fatalf("versions %s, %s; want v1.3.0, v1.2.0", cur, prev)
	}
	if kept := names(t, filepath.Join(install, "releases")); kept != "v1.2.0 v1.3.0" {
		t.Errorf("releases kept: %s; want the current and previous only", kept)
	}
	from, to, err := update.Rollback(install)
	if err != nil || from != "v1.3.0" || to != "v1.2.0" {
		t.Fatalf("rollback %s → %s, %v", from, to, err)
	}
	if link, _ := os.Readlink(filepath.Join(install, "current")); link != filepath.Join("releases", "v1.2.0") {
		t.Errorf("current → %s", link)
	}
	// Rolled back, the newer release is again an update, not a downgrade.
	if from, to, err := update.Rollback(install); err != nil || to != "v1.3.0" {
		t.Fatalf("second rollback %s → %s, %v", from, to, err)
	}
}

func TestReinstallGetsItsOwnDirectory(t *testing.T) {
	r := newRelease(t)
	install := t.TempDir()
	b := r.bundle(t, "inner", "v1.1.0")
	if err := apply(t, b, install, r.keys, expect("v1.0.0")); err != nil {
		t.Fatal(err)
	}
	want := expect("v1.1.0")
	if err := apply(t, b, install, r.keys, want); !errors.Is(err, update.ErrRefused) || !strings.Contains(err.Error(), "already installed") {
		t.Fatalf("same version without --reinstall: %v", err)
	}
	want.Reinstall = true
	if err := apply(t, b, install, r.keys, want); err != nil {
		t.Fatal(err)
	}
	if link, _ := os.Readlink(filepath.Join(install, "current")); link != filepath.Join("releases", "v1.1.0_2") {
		t.Errorf("current → %s", link)
	}
	if cur, prev, _ := update.Versions(install); cur != "v1.1.0" || prev != "v1.1.0" {
		t.Errorf("versions %s, %s", cur, prev)
	}
}

// TestRefused: each bad bundle is refused with its reason, and leaves the
// install directory exactly as it was.
func TestRefused(t *testing.T) {
	r := newRelease(t)
	good := r.bundle(t, "inner", "v1.1.0")
	other := r.bundle(t, "inner", "v1.2.0")
	stranger := newRelease(t)
	for _, tc := range []struct {
		name   string
		bundle func(t *testing.T) string
		keys   []update.Key
		want   update.Expect
		reason string
	}{
		{"unsigned", func(t *testing.T) string {
			return repack(t, good, func(es []entry) []entry { return append(es[:1:1], es[2:]...) })
		}, r.keys, expect("v1.0.0"), "must start with"},
		{"flipped byte in the binary", func(t *testing.T) string {
			return repack(t, good, func(es []entry) []entry { es[2].data[5] ^= 1; return es })
		}, r.keys, expect("v1.0.0"), "sealgate-inner does not match the manifest"},
		{"flipped byte in the SBOM", func(t *testing.T) string {
			return repack(t, good, func(es []entry) []entry { es[3].data[0] ^= 1; return es })
		}, r.keys, expect("v1.0.0"), "sealgate-inner.cdx.json does not match"},
		{"flipped byte in the manifest", func(t *testing.T) string {
			return repack(t, good, func(es []entry) []entry { es[0].data[bytes.Index(es[0].data, []byte("v1.1.0"))+3] ^= 1; return es })
		}, r.keys, expect("v1.0.0"), "signature does not verify"},
		{"signature of another manifest", func(t *testing.T) string {
			sig := entries(t, other)[1]
			return repack(t, good, func(es []entry) []entry { es[1] = sig; return es })
		}, r.keys, expect("v1.0.0"), "signature does not verify"},
		{"file not in the manifest", func(t *testing.T) string {
			return repack(t, good, func(es []entry) []entry { return append(es, entry{"extra", 0o755, []byte("x")}) })
		}, r.keys, expect("v1.0.0"), `"extra" is not in the manifest`},
		{"file missing", func(t *testing.T) string {
			return repack(t, good, func(es []entry) []entry { return es[:3] })
		}, r.keys, expect("v1.0.0"), "in the manifest but not in the bundle"},
		{"signed by an untrusted key", func(*testing.T) string { return good }, stranger.keys, expect("v1.0.0"), "signature does not verify"},
		{"no trusted key", func(*testing.T) string { return good }, nil, expect("v1.0.0"), "release_keys is empty"},
		{"older", func(*testing.T) string { return good }, r.keys, expect("v1.2.0"), "older than the installed v1.2.0"},
		{"same version", func(*testing.T) string { return good }, r.keys, expect("v1.1.0"), "already installed"},
		{"over a development build", func(*testing.T) string { return good }, r.keys, expect("dev"), "development build"},
		{"other kind", func(t *testing.T) string { return r.bundle(t, "outer", "v1.1.0") }, r.keys, expect("v1.0.0"), "for sealgate-outer, this is sealgate-inner"},
		{"other architecture", func(*testing.T) string { return good }, r.keys,
			update.Expect{Kind: "inner", GOOS: runtime.GOOS, GOARCH: "riscv64", Installed: "v1.0.0"}, "this is " + runtime.GOOS + "/riscv64"},
		{"not a bundle", func(t *testing.T) string {
			p := filepath.Join(t.TempDir(), "x.tar.gz")
			os.WriteFile(p, []byte("hello"), 0o644)
			return p
		}, r.keys, expect("v1.0.0"), "not a gzipped bundle"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			install := t.TempDir()
			if err := apply(t, r.bundle(t, "inner", "v1.0.0"), install, r.keys, reinstall(expect("dev"))); err != nil {
				t.Fatal(err)
			}
			before := tree(t, install)
			err := apply(t, tc.bundle(t), install, tc.keys, tc.want)
			if !errors.Is(err, update.ErrRefused) || !strings.Contains(err.Error(), tc.reason) {
				t.Fatalf("got %v; want a refusal saying %q", err, tc.reason)
			}
			if after := tree(t, install); after != before {
				t.Fatalf("the install directory changed:\nbefore:\n%s\nafter:\n%s", before, after)
			}
		})
	}
}

func TestRollbackWithoutPrevious(t *testing.T) {
	r := newRelease(t)
	install := t.TempDir()
	if err := apply(t, r.bundle(t, "inner", "v1.0.0"), install, r.keys, expect("v0.9.0")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := update.Rollback(install); err == nil || !strings.Contains(err.Error(), "no previous release") {
		t.Fatalf("rollback with one release: %v", err)
	}
}

func TestKeygenRefusesToOverwrite(t *testing.T) {
	dir := t.TempDir()
	if _, err := update.Keygen(dir); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(filepath.Join(dir, "release.key")); fi.Mode().Perm() != 0o600 {
		t.Errorf("release.key mode %v", fi.Mode().Perm())
	}
	if _, err := update.Keygen(dir); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("second keygen: %v", err)
	}
	if err := os.Chmod(filepath.Join(dir, "release.key"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := update.ReadPrivateKey(filepath.Join(dir, "release.key")); err == nil {
		t.Fatal("a release key readable by others was accepted")
	}
}

func TestWriteRefusesAVersionThatIsNotSemantic(t *testing.T) {
	r := newRelease(t)
	priv, _ := update.ReadPrivateKey(r.key)
	for _, v := range []string{"1068f08", "dev", "v1.2", "v1.2.3+dirty"} {
		if _, err := update.Write(filepath.Join(r.dir, "b.tar.gz"), update.Release{Kind: "inner", Version: v, GOOS: "linux", GOARCH: "amd64", Files: []string{r.key}}, priv); err == nil {
			t.Errorf("version %q accepted", v)
		}
	}
}

type entry struct {
	name string
	mode int64
	data []byte
}

func entries(t *testing.T, path string) []entry {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var es []entry
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return es
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		es = append(es, entry{h.Name, h.Mode, b})
	}
}

// repack rewrites a bundle's entries through change, as an attacker would.
func repack(t *testing.T, path string, change func([]entry) []entry) string {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, e := range change(entries(t, path)) {
		tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: e.name, Mode: e.mode, Size: int64(len(e.data))})
		tw.Write(e.data)
	}
	tw.Close()
	zw.Close()
	out := filepath.Join(t.TempDir(), "bad.tar.gz")
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

// tree lists every path under dir with its mode, link target and size.
func tree(t *testing.T, dir string) string {
	t.Helper()
	var sb strings.Builder
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		fi, _ := os.Lstat(p)
		link, _ := os.Readlink(p)
		rel, _ := filepath.Rel(dir, p)
		sb.WriteString(rel + " " + fi.Mode().String() + " " + link + " " + fmt.Sprint(fi.Size()) + "\n")
		return nil
	})
	return sb.String()
}

func names(t *testing.T, dir string) string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var n []string
	for _, e := range es {
		n = append(n, e.Name())
	}
	return strings.Join(n, " ")
}

func mustCurrent(t *testing.T, install string) string {
	t.Helper()
	cur, _, err := update.Versions(install)
	if err != nil {
		t.Fatal(err)
	}
	return cur
}

func reinstall(e update.Expect) update.Expect { e.Reinstall = true; return e }

func TestLockIsExclusive(t *testing.T) {
	dir := t.TempDir()
	unlock, err := update.Lock(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := update.Lock(dir); err == nil || !strings.Contains(err.Error(), "another update or rollback is running") {
		t.Fatalf("second lock: %v", err)
	}
	unlock()
	unlock2, err := update.Lock(dir)
	if err != nil {
		t.Fatalf("lock after unlock: %v", err)
	}
	unlock2()
}
