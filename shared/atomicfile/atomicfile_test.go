package atomicfile

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// entries lists the names in dir.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestWriteFileCreatesWithPerm(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.bin")
	if err := WriteFile(path, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := mustRead(t, path); string(got) != "hello" {
		t.Fatalf("content %q", got)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, want 0600", fi.Mode().Perm())
	}
	if names := entries(t, dir); len(names) != 1 {
		t.Fatalf("dir holds %q, want only out.bin", names)
	}
	// A mode wider than the umask would give is honoured too.
	wide := filepath.Join(dir, "wide.bin")
	if err := WriteFile(wide, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(wide); err != nil || fi.Mode().Perm() != 0o644 {
		t.Fatalf("wide: %v, %v", fi, err)
	}
}

func TestCreateOnlyRefusesAnExistingFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.bin")
	orig := []byte("the original, never touched")
	if err := os.WriteFile(path, orig, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, []byte("new"), 0o600); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("WriteFile over an existing file: %v, want ErrExist", err)
	}
	if _, err := Create(path, 0o600); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("Create of an existing file: %v, want ErrExist", err)
	}
	// The file appears while ours is being written: the commit still
	// refuses it.
	late := filepath.Join(dir, "late.bin")
	f, err := Create(late, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("ours")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(late, orig, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := f.Commit(); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("Commit over a file created meanwhile: %v, want ErrExist", err)
	}
	for _, p := range []string{path, late} {
		if got := mustRead(t, p); !bytes.Equal(got, orig) {
			t.Fatalf("%s changed: %q", p, got)
		}
		if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o640 {
			t.Fatalf("%s mode changed: %v", p, fi.Mode())
		}
	}
	if names := entries(t, dir); len(names) != 2 {
		t.Fatalf("dir holds %q: a temporary file was left", names)
	}
	// A dangling symlink is something too.
	sym := filepath.Join(dir, "sym")
	if err := os.Symlink(filepath.Join(dir, "nowhere"), sym); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(sym, []byte("x"), 0o600); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("WriteFile over a dangling symlink: %v", err)
	}
	if _, err := os.Lstat(filepath.Join(dir, "nowhere")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("written through the symlink")
	}
}

func TestNothingAppearsBeforeCommit(t *testing.T) {
	for _, replace := range []bool{false, true} {
		dir := t.TempDir()
		path := filepath.Join(dir, "out.bin")
		start := Create
		if replace {
			start = Replace
		}
		f, err := start(path, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		if f.Name() != path {
			t.Fatalf("Name %q", f.Name())
		}
		if _, err := f.Write([]byte("partial")); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("replace %v: %s exists before Commit (%v)", replace, path, err)
		}
		tmp := f.TempName()
		if filepath.Dir(tmp) != dir || filepath.Base(tmp)[0] != '.' || filepath.Ext(tmp) != ".partial" {
			t.Fatalf("temporary name %q", tmp)
		}
		if err := f.Abort(); err != nil {
			t.Fatal(err)
		}
		if names := entries(t, dir); len(names) != 0 {
			t.Fatalf("replace %v: Abort left %q", replace, names)
		}
		if err := f.Commit(); err == nil {
			t.Fatal("Commit after Abort succeeded")
		}
		if _, err := f.Write([]byte("x")); err == nil {
			t.Fatal("Write after Abort succeeded")
		}
		if names := entries(t, dir); len(names) != 0 {
			t.Fatalf("replace %v: Commit after Abort left %q", replace, names)
		}
	}
}

func TestReplaceReplaces(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	if err := ReplaceFile(path, []byte("one"), 0o600); err != nil { // no file yet: created
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := ReplaceFile(path, []byte("two"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := mustRead(t, path); string(got) != "two" {
		t.Fatalf("content %q", got)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, want the new 0600", fi.Mode())
	}
	if names := entries(t, dir); len(names) != 1 {
		t.Fatalf("dir holds %q", names)
	}
}

func TestCommitTwiceAndDeferredAbort(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.bin")
	f, err := Create(path, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Abort()
	if _, err := f.Write([]byte("done")); err != nil {
		t.Fatal(err)
	}
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := f.Commit(); err == nil {
		t.Fatal("second Commit succeeded")
	}
	if err := f.Abort(); err != nil {
		t.Fatalf("Abort after Commit: %v", err)
	}
	if got := mustRead(t, path); string(got) != "done" {
		t.Fatalf("Abort after Commit touched the file: %q", got)
	}
	if names := entries(t, dir); len(names) != 1 {
		t.Fatalf("dir holds %q", names)
	}
}

// An external writer writes the temporary path itself, even by replacing
// the file: what is there is published, with the requested mode.
func TestExternalWriter(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.mp4")
	f, err := Create(path, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	tmp := f.TempName()
	if err := os.Remove(tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tmp, []byte("from ffmpeg"), 0o666); err != nil {
		t.Fatal(err)
	}
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := mustRead(t, path); string(got) != "from ffmpeg" {
		t.Fatalf("content %q", got)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", fi.Mode())
	}
}

func TestCommitAs(t *testing.T) {
	dir := t.TempDir()
	f, err := Create(filepath.Join(dir, "adding"), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("abc"))
	if err := f.CommitAs(filepath.Join(t.TempDir(), "elsewhere")); err == nil {
		t.Fatal("CommitAs to another directory succeeded")
	}
	if names := entries(t, dir); len(names) != 0 {
		t.Fatalf("dir holds %q", names)
	}
	f, _ = Create(filepath.Join(dir, "adding"), 0o600)
	f.Write([]byte("abc"))
	if err := f.CommitAs(filepath.Join(dir, "ba7816bf")); err != nil {
		t.Fatal(err)
	}
	if f.Name() != filepath.Join(dir, "ba7816bf") || string(mustRead(t, f.Name())) != "abc" {
		t.Fatalf("%s not published", f.Name())
	}
	f, _ = Create(filepath.Join(dir, "adding"), 0o600)
	f.Write([]byte("other"))
	if err := f.CommitAs(filepath.Join(dir, "ba7816bf")); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("CommitAs over an existing file: %v", err)
	}
	if names := entries(t, dir); len(names) != 1 || string(mustRead(t, filepath.Join(dir, "ba7816bf"))) != "abc" {
		t.Fatalf("dir holds %q", names)
	}
}

// Without hard links (vfat reports EPERM) create-only falls back to a
// check and a rename, still refusing an existing file.
func TestNoHardLinkFallback(t *testing.T) {
	calls := 0
	link = func(oldname, newname string) error {
		calls++
		return &os.LinkError{Op: "link", Old: oldname, New: newname, Err: syscall.EPERM}
	}
	t.Cleanup(func() { link = os.Link })
	dir := t.TempDir()
	path := filepath.Join(dir, "export.sgpkg")
	if err := WriteFile(path, []byte("sealed"), 0o600); err != nil {
		t.Fatal(err)
	}
	if calls != 1 {
		t.Fatalf("link called %d times", calls)
	}
	if got := mustRead(t, path); string(got) != "sealed" {
		t.Fatalf("content %q", got)
	}
	if names := entries(t, dir); len(names) != 1 {
		t.Fatalf("dir holds %q", names)
	}
	// The file appears while ours is written: the fallback's check refuses it.
	f, err := Create(filepath.Join(dir, "late"), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("ours"))
	if err := os.WriteFile(filepath.Join(dir, "late"), []byte("theirs"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := f.Commit(); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("fallback over an existing file: %v, want ErrExist", err)
	}
	if got := mustRead(t, filepath.Join(dir, "late")); string(got) != "theirs" {
		t.Fatalf("replaced: %q", got)
	}
	if names := entries(t, dir); len(names) != 2 {
		t.Fatalf("dir holds %q", names)
	}
}

func TestCheckAbsentAndSyncDir(t *testing.T) {
	dir := t.TempDir()
	if err := CheckAbsent(filepath.Join(dir, "no")); err != nil {
		t.Fatal(err)
	}
	if err := CheckAbsent(dir); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("CheckAbsent(dir): %v", err)
	}
	if err := SyncDir(dir); err != nil {
		t.Fatal(err)
	}
	if err := SyncDir(filepath.Join(dir, "no")); err == nil {
		t.Fatal("SyncDir of a missing directory succeeded")
	}
	if _, err := Create(filepath.Join(dir, "no", "file"), 0o600); err == nil {
		t.Fatal("Create in a missing directory succeeded")
	}
}
