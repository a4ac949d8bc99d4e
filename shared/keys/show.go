package keys

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Public describes one public key of a key directory, for pairing.
type Public struct {
	Name        string `json:"name"` // signing, license or transfer
	File        string `json:"file"`
	Algorithm   string `json:"algorithm"`
	Fingerprint string `json:"fingerprint"`
	PEM         string `json:"pem"`
}

// Show describes the public keys found in dir. It reads public files only,
// so it works without access to the private keys.
func Show(dir string) ([]Public, error) {
	var out []Public
	if p := filepath.Join(dir, SigningPub); exists(p) {
		pub, err := ReadSigningPub(p)
		if err != nil {
			return nil, err
		}
		out = append(out, Public{Name: "signing", File: p, Algorithm: "Ed25519", Fingerprint: Fingerprint(pub), PEM: pemOf(p)})
	}
	if p := filepath.Join(dir, LicensePub); exists(p) {
		pub, err := ReadLicensePub(p)
		if err != nil {
			return nil, err
		}
		out = append(out, Public{Name: "license", File: p, Algorithm: fmt.Sprintf("HPKE KEM %#04x (MLKEM768X25519)", pub.KEM().ID()), Fingerprint: LicenseFingerprint(pub), PEM: pemOf(p)})
	}
	if p := filepath.Join(dir, TransferCert); exists(p) {
		fp, err := TransferFingerprint(p)
		if err != nil {
			return nil, err
		}
		out = append(out, Public{Name: "transfer", File: p, Algorithm: "Ed25519 (TLS 1.3 identity)", Fingerprint: fp, PEM: pemOf(p)})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("keys: no public keys in %s (create them with `keys init --dir %s`)", dir, dir)
	}
	return out, nil
}

// TransferFingerprint is the fingerprint of a transfer certificate's key
// (its SubjectPublicKeyInfo), what the peer pins.
func TransferFingerprint(certPath string) (string, error) {
	block, err := readPEM(certPath, pemCertificate, false)
	if err != nil {
		return "", err
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return "", fmt.Errorf("keys: %s: %w", certPath, err)
	}
	return CertFingerprint(cert), nil
}

// CertFingerprint is the pinning fingerprint of a peer's certificate.
func CertFingerprint(cert *x509.Certificate) string { return Fingerprint(cert.RawSubjectPublicKeyInfo) }

func exists(p string) bool {
	_, err := os.Stat(p)
	return !errors.Is(err, fs.ErrNotExist)
}

func pemOf(p string) string {
	b, _ := os.ReadFile(p) // already read and parsed above
	block, _ := pem.Decode(b)
	return string(pem.EncodeToMemory(block))
}
