package pkgstore

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"sealgate/shared/seal"
)

// Dir is the store directory: each package at <sha256>.sgpkg, packages
// still arriving under incoming/ (their bytes in <sha256>.partial, how far
// each lane has come in <sha256>.lanes). It is what transfer/receive keeps
// packages in (receive.Store); this package alone knows the layout.
type Dir struct {
	path    string
	records *Store // nil: files only (transfer tests)
}

// OpenDir prepares the store directory at path. records, if set, records
// each package kept (the outer's database); nil keeps files only.
func OpenDir(path string, records *Store) (*Dir, error) {
	if err := os.MkdirAll(filepath.Join(path, "incoming"), 0o700); err != nil {
		return nil, fmt.Errorf("pkgstore: %w", err)
	}
	return &Dir{path: path, records: records}, nil
}

// Path is where package sum is kept.
func (d *Dir) Path(sum [32]byte) string {
	return filepath.Join(d.path, hex.EncodeToString(sum[:])+".sgpkg")
}

// Has reports whether package sum is kept.
func (d *Dir) Has(sum [32]byte) bool {
	_, err := os.Stat(d.Path(sum))
	return err == nil
}

// Incoming names the files a package arriving is written to.
func (d *Dir) Incoming(sum [32]byte) (data, lanes string) {
	name := filepath.Join(d.path, "incoming", hex.EncodeToString(sum[:]))
	return name + ".partial", name + ".lanes"
}

// Keep moves a verified arrival (its bytes synced by the caller) into the
// store, durably, and records it. The file is kept before its row: a crash
// between the two leaves a file that Reconcile records at the next start,
// never a row without its file.
func (d *Dir) Keep(ctx context.Context, peer string, sum [32]byte, size int64, data string, m *seal.Manifest) error {
	final := d.Path(sum)
	if err := os.Rename(data, final); err != nil {
		return fmt.Errorf("pkgstore: keep package: %w", err)
	}
	for _, dir := range []string{d.path, filepath.Dir(data)} {
		if err := syncDir(dir); err != nil {
			return fmt.Errorf("pkgstore: keep package: %w", err)
		}
	}
	if d.records == nil {
		return nil
	}
	return d.records.Stored(ctx, peer, sum, size, final, m)
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// Used is the bytes the store holds, packages arriving included: what the
// quota counts.
func (d *Dir) Used() int64 {
	var n int64
	filepath.WalkDir(d.path, func(path string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() && (strings.HasSuffix(path, ".sgpkg") || strings.HasSuffix(path, ".partial")) {
			if fi, err := e.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

// Free is the bytes free on the store's filesystem for an unprivileged
// writer, or -1 when it cannot be told.
func (d *Dir) Free() int64 {
	var st syscall.Statfs_t
	if err := syscall.Statfs(d.path, &st); err != nil {
		return -1
	}
	return int64(st.Bavail) * int64(st.Bsize)
}

// Idle lists the packages arriving under incoming/ whose files have not
// changed since before: abandoned by their sender (an export cancelled,
// an inner unpaired), or waiting for a sender that will resume them.
func (d *Dir) Idle(before time.Time) ([][32]byte, error) {
	es, err := os.ReadDir(filepath.Join(d.path, "incoming"))
	if err != nil {
		return nil, fmt.Errorf("pkgstore: %w", err)
	}
	seen := map[[32]byte]bool{}
	var idle [][32]byte
	for _, e := range es {
		name, ok := strings.CutSuffix(e.Name(), ".partial")
		if !ok {
			name, ok = strings.CutSuffix(e.Name(), ".lanes")
		}
		var sum [32]byte
		if b, err := hex.DecodeString(name); !ok || err != nil || len(b) != 32 {
			continue
		} else {
			copy(sum[:], b)
		}
		if seen[sum] {
			continue
		}
		seen[sum] = true
		data, lanes := d.Incoming(sum)
		if changedSince(data, before) || changedSince(lanes, before) {
			continue
		}
		idle = append(idle, sum)
	}
	return idle, nil
}

// changedSince: the file exists and was written at or after t.
func changedSince(path string, t time.Time) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.ModTime().Before(t)
}

// Reconcile records package files that have no row: Keep stores the file
// before the row, so a crash between the two leaves one.
func (d *Dir) Reconcile(ctx context.Context) (int, error) {
	if d.records == nil {
		return 0, errors.New("pkgstore: reconcile needs the records")
	}
	return d.records.Reconcile(ctx, d.path)
}

// Arrival is a package arriving under incoming/.
type Arrival struct {
	SHA256   string
	Size     int64     // of its file, whose space is reserved up front: the package's size
	Modified time.Time // last written
}

// Arriving lists the packages arriving, most recently written first.
func (d *Dir) Arriving() ([]Arrival, error) {
	files, err := filepath.Glob(filepath.Join(d.path, "incoming", "*.partial"))
	if err != nil {
		return nil, fmt.Errorf("pkgstore: %w", err)
	}
	var as []Arrival
	for _, f := range files {
		fi, err := os.Stat(f)
		if err != nil {
			continue // kept or dropped since the glob
		}
		as = append(as, Arrival{SHA256: strings.TrimSuffix(filepath.Base(f), ".partial"), Size: fi.Size(), Modified: fi.ModTime()})
	}
	slices.SortFunc(as, func(a, b Arrival) int { return b.Modified.Compare(a.Modified) })
	return as, nil
}
