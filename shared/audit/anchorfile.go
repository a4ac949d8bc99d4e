package audit

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// WriteAnchorFile replaces path whole with a, so an interrupted export
// does not leave half an anchor in place of the last good one. An anchor
// is no secret (a count and a MAC): 0644, for whoever copies it off.
func WriteAnchorFile(path string, a Anchor) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".anchor-*")
	if err != nil {
		return fmt.Errorf("audit: write anchor: %w", err)
	}
	defer os.Remove(f.Name())
	if _, err := a.WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("audit: write anchor: %w", err)
	}
	if err := errors.Join(f.Chmod(0o644), f.Sync(), f.Close()); err != nil {
		return fmt.Errorf("audit: write anchor: %w", err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("audit: write anchor: %w", err)
	}
	return nil
}

// ReadAnchorFile reads the anchor at path; ok is false when there is none.
func ReadAnchorFile(path string) (a Anchor, ok bool, err error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Anchor{}, false, nil
	}
	if err != nil {
		return Anchor{}, false, fmt.Errorf("audit: %w", err)
	}
	defer f.Close()
	if a, err = ReadAnchor(f); err != nil {
		return Anchor{}, false, fmt.Errorf("%s: %w", path, err)
	}
	return a, true, nil
}
