package keys

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ErrPermissions reports a private key file (or key directory) that users
// other than its owner can read or change.
var ErrPermissions = errors.New("keys: unsafe permissions")

// ErrExist reports that keys init would overwrite existing keys.
var ErrExist = errors.New("keys: keys already exist")

// writeFile creates path with mode perm, refusing to replace a file, and
// syncs it so a crash cannot leave a half-written key.
func writeFile(path string, block *pem.Block, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%w: %s", ErrExist, path)
		}
		return fmt.Errorf("keys: %w", err)
	}
	if err := pem.Encode(f, block); err != nil {
		f.Close()
		return fmt.Errorf("keys: write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("keys: sync %s: %w", path, err)
	}
	return f.Close()
}

// readPEM reads a PEM file holding one block of type typ. Private files must
// be readable by their owner only.
func readPEM(path, typ string, private bool) (*pem.Block, error) {
	if private {
		fi, err := os.Stat(path)
		if err != nil {
			return nil, fmt.Errorf("keys: %w", err)
		}
		if m := fi.Mode().Perm(); m&0o077 != 0 {
			return nil, fmt.Errorf("%w: private key file %s has mode %#o; it must be readable by its owner only (chmod 600 %s)", ErrPermissions, path, m, path)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	// pem.Decode skips text before a block, and a broken block for the next
	// one: a file is one block alone, so it starts the file.
	b = bytes.TrimSpace(b)
	block, rest := pem.Decode(b)
	if block == nil || block.Type != typ || len(bytes.TrimSpace(rest)) != 0 ||
		!bytes.HasPrefix(b, []byte("-----BEGIN ")) || bytes.Count(b, []byte("-----BEGIN")) != 1 {
		return nil, fmt.Errorf("keys: %s: want exactly one PEM block of type %q", path, typ)
	}
	return block, nil
}

// checkDir refuses a key directory others could write to (and so swap keys in).
func checkDir(dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("keys: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("keys: %s is not a directory", dir)
	}
	if m := fi.Mode().Perm(); m&0o022 != 0 {
		return fmt.Errorf("%w: key directory %s has mode %#o; others must not write to it (chmod 700 %s)", ErrPermissions, dir, m, dir)
	}
	return nil
}

// makeDir creates the key directory with mode 0700 and refuses one that
// already holds any of names.
func makeDir(dir string, names ...string) error {
	// Parents get 0711: traversable (the private database's user must reach
	// its own directory beside the keys) but not listable.
	if err := os.MkdirAll(filepath.Dir(dir), 0o711); err != nil {
		return fmt.Errorf("keys: %w", err)
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("keys: %w", err)
	}
	if err := checkDir(dir); err != nil {
		return err
	}
	for _, n := range names {
		if _, err := os.Lstat(filepath.Join(dir, n)); err == nil {
			return fmt.Errorf("%w in %s (%s); refusing to overwrite — move them away first to make new ones", ErrExist, dir, n)
		}
	}
	return nil
}

// Fingerprint is the SHA-256 of a public key's canonical bytes, as
// "sha256:" and 64 lower-case hex digits: what pairing compares and pins.
func Fingerprint(parts ...[]byte) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write(p)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// Grouped formats a fingerprint in groups of four hex digits, for reading
// aloud when comparing out of band.
func Grouped(fp string) string {
	h := strings.TrimPrefix(fp, "sha256:")
	var g []string
	for i := 0; i < len(h); i += 4 {
		g = append(g, h[i:min(i+4, len(h))])
	}
	return strings.Join(g, " ")
}
