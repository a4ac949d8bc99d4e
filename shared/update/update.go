// Package update verifies and installs signed release bundles
// (docs/updates.md).
//
// A bundle is a gzipped tar whose first entry is manifest.json, whose
// second is manifest.sig (Ed25519 over manifest.json's exact bytes), and
// whose other entries are the files the manifest lists with their size,
// SHA-256 and mode. The signature covers the manifest and the manifest
// covers every file, so one signature vouches for the whole release and
// for no other manifest. Nothing is written until the signature, format,
// kind, platform and version have checked out; files are unpacked into a
// staging directory, hashed as they arrive, and renamed into
// <install_dir>/releases/<version> only when every one matched.
package update

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"

	"sealgate/shared/keys"
)

// Format names this bundle format; a manifest of any other is refused.
const Format = "sealgate-release/1"

// Names of the two leading entries of a bundle.
const (
	ManifestName  = "manifest.json"
	SignatureName = "manifest.sig"
)

// Limits that bound what an unverified bundle can make us read.
const (
	maxManifest = 1 << 20
	maxFiles    = 64
)

// Manifest describes one release for one kind of appliance and platform.
type Manifest struct {
	Format  string `json:"format"`
	Kind    string `json:"kind"` // "inner" or "outer": the daemon it is for
	Version string `json:"version"`
	GOOS    string `json:"goos"`
	GOARCH  string `json:"goarch"`
	Files   []File `json:"files"`
}

// File is one file of a release.
type File struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	Mode   string `json:"mode"` // octal, "0755" or "0644"
}

// nameRE keeps files flat: no directories, no "..", no hidden names.
var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

var hexRE = regexp.MustCompile(`^[0-9a-f]{64}$`)

func (f File) perm() (os.FileMode, error) {
	switch f.Mode {
	case "0755":
		return 0o755, nil
	case "0644":
		return 0o644, nil
	}
	return 0, fmt.Errorf("file %s: mode %q is neither 0755 nor 0644", f.Name, f.Mode)
}

func (m *Manifest) check() error {
	if m.Format != Format {
		return fmt.Errorf("%w: format %q, want %q", ErrRefused, m.Format, Format)
	}
	if len(m.Files) == 0 || len(m.Files) > maxFiles {
		return fmt.Errorf("%w: the manifest lists %d files", ErrRefused, len(m.Files))
	}
	seen := map[string]bool{ManifestName: true, SignatureName: true}
	for _, f := range m.Files {
		if !nameRE.MatchString(f.Name) || seen[f.Name] {
			return fmt.Errorf("%w: file name %q is not allowed or repeated", ErrRefused, f.Name)
		}
		seen[f.Name] = true
		if !hexRE.MatchString(f.SHA256) || f.Size < 0 {
			return fmt.Errorf("%w: file %s: bad sha256 or size", ErrRefused, f.Name)
		}
		if _, err := f.perm(); err != nil {
			return fmt.Errorf("%w: %w", ErrRefused, err)
		}
	}
	return nil
}

// ErrRefused wraps every reason a bundle is not installed.
var ErrRefused = errors.New("update refused")

// Key is a trusted release public key and its fingerprint.
type Key struct {
	Pub         ed25519.PublicKey
	Fingerprint string
	File        string
}

// ReadKeys reads the release public keys an appliance trusts (the config's
// update.release_keys).
func ReadKeys(paths []string) ([]Key, error) {
	var out []Key
	for _, p := range paths {
		pub, err := keys.ReadSigningPub(p)
		if err != nil {
			return nil, fmt.Errorf("release key: %w", err)
		}
		out = append(out, Key{Pub: pub, Fingerprint: keys.Fingerprint(pub), File: p})
	}
	return out, nil
}

// Keygen writes a new release key pair to dir: release.key (PKCS#8 PEM,
// 0600; keep it offline) and release.pub (PKIX PEM, installed on every
// appliance). It refuses to overwrite either.
func Keygen(dir string) (fingerprint string, err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("keygen: %w", err)
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", fmt.Errorf("keygen: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return "", fmt.Errorf("keygen: %w", err)
	}
	spki, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("keygen: %w", err)
	}
	if err := writeNew(filepath.Join(dir, "release.key"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return "", err
	}
	if err := writeNew(filepath.Join(dir, "release.pub"), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: spki}), 0o644); err != nil {
		return "", err
	}
	return keys.Fingerprint(pub), nil
}

// ReadPrivateKey reads a release.key; it must be readable by its owner only.
func ReadPrivateKey(path string) (ed25519.PrivateKey, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("release key: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("release key %s has mode %#o; it must be readable by its owner only (chmod 600)", path, fi.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("release key: %w", err)
	}
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("release key %s: not a PEM private key", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	priv, ok := k.(ed25519.PrivateKey)
	if err != nil || !ok {
		return nil, fmt.Errorf("release key %s: not an Ed25519 private key", path)
	}
	return priv, nil
}

func writeNew(path string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return fmt.Errorf("keygen: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("keygen: write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("keygen: sync %s: %w", path, err)
	}
	return f.Close()
}

func parseManifest(b []byte) (*Manifest, error) {
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%w: manifest: %w", ErrRefused, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: manifest: trailing data", ErrRefused)
	}
	return &m, m.check()
}
