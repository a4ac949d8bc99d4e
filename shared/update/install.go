package update

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// Names inside the install directory. The daemon's unit runs
// <install_dir>/current/<binary>; previous is what rollback returns to.
const (
	ReleasesDir = "releases"
	CurrentLink = "current"
	PrevLink    = "previous"
)

// Install moves the staged release into releases/, points previous at the
// release current named and current at the new one (each link replaced by
// a rename, so it is never missing), and removes older releases.
func (s *Staged) Install(installDir string) error {
	if s.dir == "" {
		return errors.New("update: nothing staged")
	}
	releases := filepath.Join(installDir, ReleasesDir)
	if err := os.MkdirAll(releases, 0o755); err != nil {
		return fmt.Errorf("update: %w", err)
	}
	// A reinstall of the version in use gets a directory of its own, so
	// current never points at a half-replaced one.
	name := s.Manifest.Version
	for i := 2; exists(filepath.Join(releases, name)); i++ {
		name = fmt.Sprintf("%s_%d", s.Manifest.Version, i)
	}
	if err := os.Chmod(s.dir, 0o755); err != nil {
		return fmt.Errorf("update: %w", err)
	}
	if err := os.Rename(s.dir, filepath.Join(releases, name)); err != nil {
		return fmt.Errorf("update: %w", err)
	}
	s.dir = ""
	if old, err := os.Readlink(filepath.Join(installDir, CurrentLink)); err == nil {
		if err := relink(installDir, PrevLink, old); err != nil {
			return err
		}
	}
	if err := relink(installDir, CurrentLink, filepath.Join(ReleasesDir, name)); err != nil {
		return err
	}
	return prune(installDir)
}

// Rollback swaps current and previous, and returns the versions it left
// and went back to. Rolling back twice returns to where it started.
func Rollback(installDir string) (from, to string, err error) {
	cur, err := os.Readlink(filepath.Join(installDir, CurrentLink))
	if err != nil {
		return "", "", fmt.Errorf("update: no current release in %s: %w", installDir, err)
	}
	prev, err := os.Readlink(filepath.Join(installDir, PrevLink))
	if err != nil || !exists(filepath.Join(installDir, prev, ManifestName)) {
		return "", "", fmt.Errorf("update: no previous release in %s to roll back to", installDir)
	}
	if from, err = versionOf(filepath.Join(installDir, cur)); err != nil {
		return "", "", err
	}
	if to, err = versionOf(filepath.Join(installDir, prev)); err != nil {
		return "", "", err
	}
	if err := relink(installDir, CurrentLink, prev); err != nil {
		return "", "", err
	}
	return from, to, relink(installDir, PrevLink, cur)
}

// Versions are the current and previous releases' versions; "" where there
// is none.
func Versions(installDir string) (current, previous string, err error) {
	get := func(link string) (string, error) {
		target, err := os.Readlink(filepath.Join(installDir, link))
		if errors.Is(err, fs.ErrNotExist) {
			return "", nil
		}
		if err != nil {
			return "", fmt.Errorf("update: %w", err)
		}
		return versionOf(filepath.Join(installDir, target))
	}
	if current, err = get(CurrentLink); err != nil {
		return "", "", err
	}
	previous, err = get(PrevLink)
	return current, previous, err
}

// versionOf reads an installed release's version from its manifest (its
// signature was checked when it was installed).
func versionOf(dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if errors.Is(err, fs.ErrNotExist) {
		// The release appliance/install.sh put in place from a binary,
		// not a bundle: its directory is named by the binary's version.
		return filepath.Base(dir), nil
	}
	if err != nil {
		return "", fmt.Errorf("update: %w", err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return "", fmt.Errorf("update: %s: %w", dir, err)
	}
	return m.Version, nil
}

// relink points installDir/name at target by renaming a new symlink over
// the old one: rename(2) is atomic, so the link always names a release.
func relink(installDir, name, target string) error {
	var b [8]byte
	rand.Read(b[:])
	tmp := filepath.Join(installDir, "."+name+"-"+hex.EncodeToString(b[:]))
	if err := os.Symlink(target, tmp); err != nil {
		return fmt.Errorf("update: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(installDir, name)); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("update: %w", err)
	}
	return syncDir(installDir)
}

// prune removes every release neither link names.
func prune(installDir string) error {
	keep := map[string]bool{}
	for _, l := range []string{CurrentLink, PrevLink} {
		if t, err := os.Readlink(filepath.Join(installDir, l)); err == nil {
			keep[filepath.Base(t)] = true
		}
	}
	entries, err := os.ReadDir(filepath.Join(installDir, ReleasesDir))
	if err != nil {
		return fmt.Errorf("update: %w", err)
	}
	for _, e := range entries {
		if !keep[e.Name()] {
			if err := os.RemoveAll(filepath.Join(installDir, ReleasesDir, e.Name())); err != nil {
				return fmt.Errorf("update: remove an old release: %w", err)
			}
		}
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("update: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("update: sync %s: %w", dir, err)
	}
	return nil
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

// Lock takes the install directory's lock for one apply or rollback, so
// two at once cannot interleave their links; unlock releases it.
func Lock(installDir string) (unlock func(), err error) {
	if err := os.MkdirAll(installDir, 0o755); err != nil {
		return nil, fmt.Errorf("update: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(installDir, ".lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("update: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("update: another update or rollback is running in %s: %w", installDir, err)
	}
	return func() { f.Close() }, nil
}
