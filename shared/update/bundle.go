package update

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/mod/semver"
)

// Release is what [Write] packs: the manifest's fields and the files on disk.
type Release struct {
	Kind, Version, GOOS, GOARCH string
	// Files are paths to pack under their base names; executables (any
	// execute bit) get 0755, the rest 0644.
	Files []string
}

// Write builds the bundle of r at out, signed by priv, and returns its manifest.
func Write(out string, r Release, priv ed25519.PrivateKey) (*Manifest, error) {
	if !validVersion(r.Version) {
		return nil, fmt.Errorf("bundle: version %q is not a semantic version such as v1.2.3", r.Version)
	}
	m := &Manifest{Format: Format, Kind: r.Kind, Version: r.Version, GOOS: r.GOOS, GOARCH: r.GOARCH}
	for _, p := range r.Files {
		f, err := describe(p)
		if err != nil {
			return nil, err
		}
		m.Files = append(m.Files, f)
	}
	if err := m.check(); err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	body, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	body = append(body, '\n')
	sig := ed25519.Sign(priv, body)

	tmp, err := os.CreateTemp(filepath.Dir(out), ".bundle-*")
	if err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	defer os.Remove(tmp.Name())
	zw := gzip.NewWriter(tmp)
	tw := tar.NewWriter(zw)
	// A fixed time keeps the archive a function of its contents.
	when := time.Unix(0, 0).UTC()
	add := func(name string, mode int64, size int64, src io.Reader) error {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: size, ModTime: when, Format: tar.FormatPAX}); err != nil {
			return err
		}
		_, err := io.Copy(tw, src)
		return err
	}
	err = add(ManifestName, 0o644, int64(len(body)), bytes.NewReader(body))
	if err == nil {
		err = add(SignatureName, 0o644, int64(len(sig)), bytes.NewReader(sig))
	}
	for i, p := range r.Files {
		if err != nil {
			break
		}
		var f *os.File
		if f, err = os.Open(p); err == nil {
			perm, _ := m.Files[i].perm()
			err = add(m.Files[i].Name, int64(perm), m.Files[i].Size, io.LimitReader(f, m.Files[i].Size))
			f.Close()
		}
	}
	if err == nil {
		err = tw.Close()
	}
	if err == nil {
		err = zw.Close()
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), out)
	}
	if err != nil {
		return nil, fmt.Errorf("bundle: write %s: %w", out, err)
	}
	return m, nil
}

func describe(path string) (File, error) {
	f, err := os.Open(path)
	if err != nil {
		return File{}, fmt.Errorf("bundle: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return File{}, fmt.Errorf("bundle: %s is not a regular file", path)
	}
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return File{}, fmt.Errorf("bundle: read %s: %w", path, err)
	}
	mode := "0644"
	if fi.Mode().Perm()&0o111 != 0 {
		mode = "0755"
	}
	return File{Name: filepath.Base(path), Size: n, SHA256: hex.EncodeToString(h.Sum(nil)), Mode: mode}, nil
}

// validVersion accepts full semantic versions only (v1.2.3, v1.2.3-rc.1):
// "v1.2" and build metadata would compare equal to other spellings.
func validVersion(v string) bool { return semver.IsValid(v) && semver.Canonical(v) == v }
