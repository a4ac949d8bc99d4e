package seal_test

import (
	"crypto/hpke"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"sealgate/shared/seal"
)

func TestSealFileDecryptFile(t *testing.T) {
	dir := t.TempDir()
	p := newParties(t)
	v := video(3*seal.ChunkSize + 5)
	in, pkgPath, out := filepath.Join(dir, "clip.mp4"), filepath.Join(dir, "clip.sgpkg"), filepath.Join(dir, "opened.mp4")
	if err := os.WriteFile(in, v, 0o600); err != nil {
		t.Fatal(err)
	}
	m := manifestFor(v)
	opts := seal.Options{Signer: p.signer, Recipients: []hpke.PublicKey{p.license.PublicKey()}, Password: []byte("pw pw pw pw pw"), Argon2: testArgon}
	if _, err := seal.SealFile(in, pkgPath, m, opts); err != nil {
		t.Fatal(err)
	}
	if _, err := seal.SealFile(in, pkgPath, m, opts); err == nil || !strings.Contains(err.Error(), "refusing to overwrite") {
		t.Fatalf("second SealFile to the same path: %v", err)
	}
	bad := m
	bad.DeliveredSHA256 = strings.Repeat("0", 64)
	if _, err := seal.SealFile(in, filepath.Join(dir, "x.sgpkg"), bad, opts); err == nil {
		t.Fatal("a manifest hash that does not match the video was accepted")
	}
	f, pkg, err := seal.OpenFile(pkgPath, pub(p))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	k, err := pkg.UnwrapPassword([]byte("pw pw pw pw pw"))
	if err != nil {
		t.Fatal(err)
	}
	if err := pkg.DecryptFile(f, k, out); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(out)
	if string(got) != string(v) {
		t.Fatal("decrypted file differs")
	}
	if fi, _ := os.Stat(out); fi.Mode().Perm() != 0o600 {
		t.Fatalf("decrypted video mode %v, want 0600", fi.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".partial") {
			t.Fatalf("temporary file %s left behind", e.Name())
		}
	}
}

func TestWriteAtomicLeavesNothingOnFailure(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out")
	boom := errors.New("disk full")
	err := seal.WriteAtomic(path, 0o600, func(w io.Writer) error {
		w.Write([]byte("half a video"))
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("got %v", err)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 0 {
		t.Fatalf("left behind: %v", entries)
	}
}

// TestSealFileOnAFullDisk seals onto a real 1 MiB tmpfs: the write fails
// with ENOSPC, the error says so, and no partial package is left.
func TestSealFileOnAFullDisk(t *testing.T) {
	dir := t.TempDir()
	disk := filepath.Join(dir, "disk")
	os.Mkdir(disk, 0o700)
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", disk).CombinedOutput(); err != nil {
		t.Fatalf("mount a 1 MiB tmpfs (the test runs as root, as make test does): %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", disk).Run() })
	p := newParties(t)
	v := video(3 << 20)
	in := filepath.Join(dir, "clip.mp4")
	os.WriteFile(in, v, 0o600)
	_, err := seal.SealFile(in, filepath.Join(disk, "clip.sgpkg"), manifestFor(v), seal.Options{Signer: p.signer, Recipients: []hpke.PublicKey{p.license.PublicKey()}})
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("sealing onto a full disk: %v, want ENOSPC", err)
	}
	if entries, _ := os.ReadDir(disk); len(entries) != 0 {
		t.Fatalf("left on the full disk: %v", entries)
	}
}
