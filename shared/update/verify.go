package update

import (
	"archive/tar"
	"compress/gzip"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/mod/semver"
)

// Expect describes the appliance a bundle must be for.
type Expect struct {
	Kind, GOOS, GOARCH string
	// Installed is the version in use; one that is not a semantic version
	// (a development build) is replaced only with Reinstall.
	Installed string
	// Reinstall accepts the installed version again; never an older one.
	Reinstall bool
}

// Staged is a bundle whose signature, manifest and every file checked out,
// unpacked into a staging directory under the install directory.
type Staged struct {
	Manifest *Manifest
	SignedBy string // fingerprint of the release key that signed
	SHA256   string // of the bundle file, for the audit log
	dir      string
}

// Stage verifies the bundle at path against the trusted keys and want, and
// unpacks it under installDir. A bundle that does not check out leaves
// installDir as it was and returns an error wrapping [ErrRefused].
func Stage(path, installDir string, trusted []Key, want Expect) (*Staged, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRefused, err)
	}
	defer f.Close()
	whole := sha256.New()
	zr, err := gzip.NewReader(io.TeeReader(f, whole))
	if err != nil {
		return nil, fmt.Errorf("%w: not a gzipped bundle: %w", ErrRefused, err)
	}
	tr := tar.NewReader(zr)
	body, err := leading(tr, ManifestName, maxManifest)
	if err != nil {
		return nil, err
	}
	sig, err := leading(tr, SignatureName, ed25519.SignatureSize)
	if err != nil {
		return nil, err
	}
	s := &Staged{}
	if s.SignedBy, err = verifySignature(body, sig, trusted); err != nil {
		return nil, err
	}
	if s.Manifest, err = parseManifest(body); err != nil {
		return nil, err
	}
	if err := s.Manifest.fits(want); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(installDir, 0o755); err != nil {
		return nil, fmt.Errorf("update: %w", err)
	}
	if s.dir, err = os.MkdirTemp(installDir, ".staging-"); err != nil {
		return nil, fmt.Errorf("update: %w", err)
	}
	if err := s.unpack(tr, body, sig); err != nil {
		s.Discard()
		return nil, err
	}
	// The rest of the stream, so the bundle's hash is of the whole file.
	if _, err := io.Copy(io.Discard, f); err != nil {
		s.Discard()
		return nil, fmt.Errorf("update: read %s: %w", path, err)
	}
	s.SHA256 = hex.EncodeToString(whole.Sum(nil))
	return s, nil
}

// Discard removes the staged files.
func (s *Staged) Discard() {
	if s.dir != "" {
		os.RemoveAll(s.dir)
		s.dir = ""
	}
}

// leading reads the next entry, which must be the regular file name of at
// most limit bytes: manifest and signature come first, so nothing else is
// written before the signature has checked out.
func leading(tr *tar.Reader, name string, limit int64) ([]byte, error) {
	h, err := tr.Next()
	if err != nil {
		return nil, fmt.Errorf("%w: %s missing: %w", ErrRefused, name, err)
	}
	if h.Name != name || h.Typeflag != tar.TypeReg || h.Size > limit {
		return nil, fmt.Errorf("%w: the bundle must start with %s and %s (unsigned?), found %q", ErrRefused, ManifestName, SignatureName, h.Name)
	}
	b, err := io.ReadAll(tr)
	if err != nil {
		return nil, fmt.Errorf("%w: read %s: %w", ErrRefused, name, err)
	}
	return b, nil
}

func verifySignature(body, sig []byte, trusted []Key) (string, error) {
	if len(trusted) == 0 {
		return "", fmt.Errorf("%w: no release key is trusted (update.release_keys is empty)", ErrRefused)
	}
	if len(sig) == ed25519.SignatureSize {
		for _, k := range trusted {
			if ed25519.Verify(k.Pub, body, sig) {
				return k.Fingerprint, nil
			}
		}
	}
	var fps []string
	for _, k := range trusted {
		fps = append(fps, k.Fingerprint)
	}
	return "", fmt.Errorf("%w: the manifest's signature does not verify against the trusted release keys (%s)", ErrRefused, strings.Join(fps, ", "))
}

func (m *Manifest) fits(want Expect) error {
	if m.Kind != want.Kind {
		return fmt.Errorf("%w: the bundle is for sealgate-%s, this is sealgate-%s", ErrRefused, m.Kind, want.Kind)
	}
	if m.GOOS != want.GOOS || m.GOARCH != want.GOARCH {
		return fmt.Errorf("%w: the bundle is for %s/%s, this is %s/%s", ErrRefused, m.GOOS, m.GOARCH, want.GOOS, want.GOARCH)
	}
	if !validVersion(m.Version) {
		return fmt.Errorf("%w: version %q is not a semantic version", ErrRefused, m.Version)
	}
	if !validVersion(want.Installed) {
		if !want.Reinstall {
			return fmt.Errorf("%w: the installed version %q is a development build; --reinstall replaces it", ErrRefused, want.Installed)
		}
		return nil
	}
	switch c := semver.Compare(m.Version, want.Installed); {
	case c < 0:
		return fmt.Errorf("%w: %s is older than the installed %s (update rollback returns to the previous release)", ErrRefused, m.Version, want.Installed)
	case c == 0 && !want.Reinstall:
		return fmt.Errorf("%w: %s is already installed (--reinstall installs it again)", ErrRefused, m.Version)
	}
	return nil
}

// unpack writes every file the manifest lists into the staging directory,
// hashing it on the way; any difference from the manifest refuses the
// whole bundle.
func (s *Staged) unpack(tr *tar.Reader, body, sig []byte) error {
	want := map[string]File{}
	for _, f := range s.Manifest.Files {
		want[f.Name] = f
	}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("%w: read bundle: %w", ErrRefused, err)
		}
		f, ok := want[h.Name]
		if !ok || h.Typeflag != tar.TypeReg {
			return fmt.Errorf("%w: %q is not in the manifest, or not a regular file", ErrRefused, h.Name)
		}
		delete(want, h.Name)
		if err := s.write(f, tr); err != nil {
			return err
		}
	}
	for name := range want {
		return fmt.Errorf("%w: %s is in the manifest but not in the bundle", ErrRefused, name)
	}
	// Kept beside the files: `update status` reads the version from it, and
	// anyone can verify the installed release by hand (docs/updates.md).
	if err := os.WriteFile(filepath.Join(s.dir, ManifestName), body, 0o644); err != nil {
		return fmt.Errorf("update: %w", err)
	}
	if err := os.WriteFile(filepath.Join(s.dir, SignatureName), sig, 0o644); err != nil {
		return fmt.Errorf("update: %w", err)
	}
	return nil
}

func (s *Staged) write(f File, r io.Reader) error {
	out, err := os.OpenFile(filepath.Join(s.dir, f.Name), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("update: %w", err)
	}
	defer out.Close()
	var h hash.Hash = sha256.New()
	n, err := io.Copy(io.MultiWriter(out, h), io.LimitReader(r, f.Size+1))
	if err != nil {
		return fmt.Errorf("%w: read %s: %w", ErrRefused, f.Name, err)
	}
	if n != f.Size || hex.EncodeToString(h.Sum(nil)) != f.SHA256 {
		return fmt.Errorf("%w: %s does not match the manifest's size and SHA-256 (tampered or damaged)", ErrRefused, f.Name)
	}
	perm, _ := f.perm() // checked with the manifest
	if err := out.Chmod(perm); err != nil {
		return fmt.Errorf("update: %w", err)
	}
	if err := out.Sync(); err != nil {
		return fmt.Errorf("update: %w", err)
	}
	return out.Close()
}
