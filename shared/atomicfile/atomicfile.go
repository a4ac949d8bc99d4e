// Package atomicfile is the one way sealgate writes a file that others
// read: through a hidden temporary file in the same directory, synced, then
// published whole under its name, and the directory synced. A reader never
// sees a half-written file, and a crash or a full disk leaves at most a
// ".<name>.*.partial" temporary file behind, never a truncated output.
//
// Two modes:
//
//   - create-only ([Create], [WriteFile]): the file is published with a
//     hard link, which fails if the name exists, so an existing file is
//     never replaced, not even one that appeared while writing; the error
//     then wraps [fs.ErrExist]. Where hard links are unsupported (FAT USB
//     sticks) it falls back to a check that the name is free, then a
//     rename.
//   - replace ([Replace], [ReplaceFile]): the file is renamed over the
//     target, which readers see either whole before or whole after.
package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// link is os.Link, swapped by tests to exercise the no-hard-link fallback.
var link = os.Link

// File is a file being written. Nothing appears at its path until
// [File.Commit]; until then it is written to a temporary file beside it.
// It is an [io.Writer] and is not buffered (wrap it in a [bufio.Writer]
// for small writes). A File is not safe for concurrent use.
type File struct {
	f        *os.File
	path     string
	perm     fs.FileMode
	replace  bool
	external bool // TempName was called: someone else may write the temp file
	done     error
}

var (
	errCommitted = errors.New("already committed")
	errAborted   = errors.New("aborted")
)

// Create starts a file that [File.Commit] publishes at path only if
// nothing is there: an existing path is never replaced. It fails at once,
// with an error wrapping [fs.ErrExist], if path exists already, so a long
// job is refused before it starts.
func Create(path string, perm fs.FileMode) (*File, error) {
	if err := CheckAbsent(path); err != nil {
		return nil, err
	}
	return start(path, perm, false)
}

// Replace starts a file that [File.Commit] renames over path, whatever is
// there.
func Replace(path string, perm fs.FileMode) (*File, error) {
	return start(path, perm, true)
}

func start(path string, perm fs.FileMode, replace bool) (*File, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.partial")
	if err != nil {
		return nil, fmt.Errorf("atomicfile: %w", err)
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("atomicfile: %w", err)
	}
	return &File{f: f, path: path, perm: perm, replace: replace}, nil
}

// CheckAbsent returns nil if nothing (not even a dangling symlink) is at
// path, and otherwise an error, wrapping [fs.ErrExist] if something is.
// Commands check their output paths with it before a long job; [Create]
// checks again, and the commit itself cannot replace a file either way.
func CheckAbsent(path string) error {
	_, err := os.Lstat(path)
	switch {
	case err == nil:
		return existsError(path)
	case errors.Is(err, fs.ErrNotExist):
		return nil
	default:
		return fmt.Errorf("atomicfile: %w", err)
	}
}

func existsError(path string) error {
	return fmt.Errorf("%s: %w; refusing to overwrite it", path, fs.ErrExist)
}

// Name is the path the file is published at.
func (f *File) Name() string { return f.path }

// TempName is the temporary file's path, for a writer in another process
// (ffmpeg) that writes the file itself; Commit then syncs and publishes
// what is at TempName.
func (f *File) TempName() string {
	f.external = true
	return f.f.Name()
}

// Write writes to the temporary file.
func (f *File) Write(b []byte) (int, error) {
	if f.done != nil {
		return 0, fmt.Errorf("atomicfile: write %s: %w", f.path, f.done)
	}
	return f.f.Write(b)
}

// Commit syncs and closes the temporary file, publishes it at Name
// (create-only or replace), and syncs the directory. On an error nothing
// is published (but see below) and the temporary file is removed. A second
// Commit, or one after Abort, is an error.
//
// Only a failure to sync the directory comes after the file is in place:
// the file is then visible but may not survive a power cut.
func (f *File) Commit() (err error) {
	if f.done != nil {
		return fmt.Errorf("atomicfile: commit %s: %w", f.path, f.done)
	}
	tmp := f.f.Name()
	published := false
	defer func() {
		if published {
			f.done = errCommitted
			return
		}
		f.f.Close()
		os.Remove(tmp)
		f.done = errAborted
	}()
	if err := f.f.Sync(); err != nil {
		return fmt.Errorf("atomicfile: sync %s: %w", f.path, err)
	}
	if err := f.f.Close(); err != nil {
		return fmt.Errorf("atomicfile: close %s: %w", f.path, err)
	}
	if f.external {
		// The other writer may have replaced the file we created: sync
		// and set the mode of what is at the temporary path now.
		if err := syncPath(tmp); err != nil {
			return fmt.Errorf("atomicfile: sync %s: %w", f.path, err)
		}
		if err := os.Chmod(tmp, f.perm); err != nil {
			return fmt.Errorf("atomicfile: %w", err)
		}
	}
	if f.replace {
		if err := os.Rename(tmp, f.path); err != nil {
			return fmt.Errorf("atomicfile: %w", err)
		}
	} else if err := publish(tmp, f.path); err != nil {
		return err
	}
	published = true
	if err := SyncDir(filepath.Dir(f.path)); err != nil {
		return fmt.Errorf("atomicfile: %s is in place but its directory did not sync: %w", f.path, err)
	}
	return nil
}

// CommitAs is Commit publishing at path instead of Name, for a name known
// only once the content is written (its hash); path must be in the same
// directory as Name. A create-only File still never replaces path.
func (f *File) CommitAs(path string) error {
	if filepath.Dir(path) != filepath.Dir(f.path) {
		f.Abort()
		return fmt.Errorf("atomicfile: %s is not in the directory of %s", path, f.path)
	}
	if f.done == nil {
		f.path = path
	}
	return f.Commit()
}

// publish links tmp at path, failing if path exists, and removes tmp.
// Without hard links it checks that path is free and renames: only a file
// created in between (by another writer on a FAT stick) can be replaced.
func publish(tmp, path string) error {
	err := link(tmp, path)
	if err == nil {
		os.Remove(tmp)
		return nil
	}
	if errors.Is(err, fs.ErrExist) {
		return existsError(path)
	}
	// No hard links here (FAT, some network file systems): fall back.
	if err := CheckAbsent(path); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("atomicfile: %w", err)
	}
	return nil
}

// Abort closes and removes the temporary file; nothing is published. It is
// a no-op after Commit (or a second Abort), so `defer f.Abort()` is safe
// on every path.
func (f *File) Abort() error {
	if f.done != nil {
		return nil
	}
	f.done = errAborted
	f.f.Close()
	if err := os.Remove(f.f.Name()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("atomicfile: %w", err)
	}
	return nil
}

// WriteFile writes b to a new file at path (create-only): it fails, with
// an error wrapping [fs.ErrExist], if path exists.
func WriteFile(path string, b []byte, perm fs.FileMode) error {
	f, err := Create(path, perm)
	if err != nil {
		return err
	}
	return writeAll(f, b)
}

// ReplaceFile writes b to path, atomically replacing whatever is there.
func ReplaceFile(path string, b []byte, perm fs.FileMode) error {
	f, err := Replace(path, perm)
	if err != nil {
		return err
	}
	return writeAll(f, b)
}

func writeAll(f *File, b []byte) error {
	defer f.Abort()
	if _, err := f.Write(b); err != nil {
		return fmt.Errorf("atomicfile: write %s: %w", f.path, err)
	}
	return f.Commit()
}

// SyncDir fsyncs the directory dir, so that a file created, linked or
// renamed in it survives a power cut. File systems that cannot sync a
// directory (it reports EINVAL or "unsupported") are not an error.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("atomicfile: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, errors.ErrUnsupported) {
		return fmt.Errorf("atomicfile: sync %s: %w", dir, err)
	}
	return nil
}

func syncPath(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
