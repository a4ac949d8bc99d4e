// Package keys creates, loads and describes the appliances' long-term keys.
//
// # Files
//
// The inner appliance's key directory holds:
//
//	signing.key   Ed25519 private key that signs sealed packages (PKCS#8 PEM, 0600)
//	signing.pub   its public key (PKIX PEM): what officers verify packages against
//	audit.key     HMAC key chaining the audit log (0600; both appliances)
//	pii.key       keys encrypting and indexing personal data (0600; both appliances)
//	transfer.key  Ed25519 private key of the QUIC/TLS transfer identity (0600)
//	transfer.crt  its self-signed certificate; the outer pins its key's fingerprint
//	watermark.key secret that keys the forensic watermark of exports (0600)
//
// The outer appliance's key directory holds:
//
//	license.key   HPKE private key (MLKEM768X25519) that packages are sealed to (0600)
//	license.pub   its public key
//	transfer.key, transfer.crt  as above
//
// Keys are generated at run time by `keys init` and never leave the
// appliance except as public halves. A private file that others can read,
// or a key directory others can write, is refused with [ErrPermissions].
//
// # Fingerprints
//
// [Fingerprint] is SHA-256 over a public key's canonical bytes: the raw
// Ed25519 key, the HPKE KEM id (2 bytes, big-endian) followed by the
// serialised public key, or the transfer certificate's SubjectPublicKeyInfo.
// Pairing compares them out of band and pins them in each side's config.
package keys

import (
	"crypto/ed25519"
	"crypto/hpke"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"encoding/pem"
	"fmt"
	"math/big"
	"path/filepath"
	"time"
)

// File names in a key directory.
const (
	SigningKey   = "signing.key"
	SigningPub   = "signing.pub"
	LicenseKey   = "license.key"
	LicensePub   = "license.pub"
	TransferKey  = "transfer.key"
	TransferCert = "transfer.crt"
	AuditKey     = "audit.key" // HMAC key of the audit chain
	PIIKey       = "pii.key"   // encryption and blind-index keys of personal data
	WatermarkKey = "watermark.key"
)

// watermarkKeySize is the length of the watermark secret (inner/watermark.KeySize).
const watermarkKeySize = 32

// LicenseKEM is the HPKE KEM of license keys: hybrid post-quantum, so footage
// kept for years resists harvest-now-decrypt-later (docs/package-format.md).
func LicenseKEM() hpke.KEM { return hpke.MLKEM768X25519() }

const (
	pemPrivate     = "PRIVATE KEY"
	pemPublic      = "PUBLIC KEY"
	pemCertificate = "CERTIFICATE"
	pemHPKEPrivate = "SEALGATE HPKE PRIVATE KEY"
	pemHPKEPublic  = "SEALGATE HPKE PUBLIC KEY"
)

// Inner is the inner appliance's key set.
type Inner struct {
	Signing   ed25519.PrivateKey
	Transfer  tls.Certificate
	Watermark []byte // 32 bytes: keys the forensic watermark (inner/watermark)
	Secrets
}

// Outer is the outer appliance's key set.
type Outer struct {
	License  hpke.PrivateKey
	Transfer tls.Certificate
	Secrets
}

// Secrets are the symmetric keys both appliances hold.
type Secrets struct {
	Audit []byte // 32 bytes: HMAC-SHA256 key chaining the audit log
	PII   []byte // 64 bytes: AES-256-GCM key, then HMAC-SHA256 blind-index key
}

// InitInner creates the inner key set in dir, refusing to overwrite.
func InitInner(dir string) error {
	if err := makeDir(dir, SigningKey, SigningPub, TransferKey, TransferCert, AuditKey, PIIKey, WatermarkKey); err != nil {
		return err
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return fmt.Errorf("keys: generate signing key: %w", err)
	}
	if err := writeEd25519(dir, SigningKey, SigningPub, priv, pub); err != nil {
		return err
	}
	if err := initSecrets(dir); err != nil {
		return err
	}
	if err := writeSecret(dir, WatermarkKey, watermarkKeySize); err != nil {
		return err
	}
	return initTransfer(dir, "sealgate-inner")
}

// InitOuter creates the outer key set in dir, refusing to overwrite.
func InitOuter(dir string) error {
	if err := makeDir(dir, LicenseKey, LicensePub, TransferKey, TransferCert, AuditKey, PIIKey); err != nil {
		return err
	}
	priv, err := LicenseKEM().GenerateKey()
	if err != nil {
		return fmt.Errorf("keys: generate license key: %w", err)
	}
	raw, err := priv.Bytes()
	if err != nil {
		return fmt.Errorf("keys: serialise license key: %w", err)
	}
	kem := fmt.Sprintf("%#04x", LicenseKEM().ID())
	if err := writeFile(filepath.Join(dir, LicenseKey), &pem.Block{Type: pemHPKEPrivate, Headers: map[string]string{"KEM": kem}, Bytes: raw}, 0o600); err != nil {
		return err
	}
	pubBlock := &pem.Block{Type: pemHPKEPublic, Headers: map[string]string{"KEM": kem}, Bytes: priv.PublicKey().Bytes()}
	if err := writeFile(filepath.Join(dir, LicensePub), pubBlock, 0o644); err != nil {
		return err
	}
	if err := initSecrets(dir); err != nil {
		return err
	}
	return initTransfer(dir, "sealgate-outer")
}

// LoadInner reads the inner key set, refusing unsafe permissions.
func LoadInner(dir string) (*Inner, error) {
	if err := checkDir(dir); err != nil {
		return nil, err
	}
	block, err := readPEM(filepath.Join(dir, SigningKey), pemPrivate, true)
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	signing, ok := k.(ed25519.PrivateKey)
	if err != nil || !ok {
		return nil, fmt.Errorf("keys: %s is not an Ed25519 private key", filepath.Join(dir, SigningKey))
	}
	transfer, err := loadTransfer(dir)
	if err != nil {
		return nil, err
	}
	secrets, err := loadSecrets(dir)
	if err != nil {
		return nil, err
	}
	wm, err := readSecret(dir, WatermarkKey, watermarkKeySize)
	if err != nil {
		return nil, err
	}
	return &Inner{Signing: signing, Transfer: transfer, Watermark: wm, Secrets: *secrets}, nil
}

// LoadOuter reads the outer key set, refusing unsafe permissions.
func LoadOuter(dir string) (*Outer, error) {
	if err := checkDir(dir); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, LicenseKey)
	block, err := readPEM(path, pemHPKEPrivate, true)
	if err != nil {
		return nil, err
	}
	kem, err := kemOf(block)
	if err != nil {
		return nil, fmt.Errorf("keys: %s: %w", path, err)
	}
	license, err := kem.NewPrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("keys: %s: %w", path, err)
	}
	transfer, err := loadTransfer(dir)
	if err != nil {
		return nil, err
	}
	secrets, err := loadSecrets(dir)
	if err != nil {
		return nil, err
	}
	return &Outer{License: license, Transfer: transfer, Secrets: *secrets}, nil
}

// ReadLicensePub reads an outer's license.pub, the recipient packages are sealed to.
func ReadLicensePub(path string) (hpke.PublicKey, error) {
	block, err := readPEM(path, pemHPKEPublic, false)
	if err != nil {
		return nil, err
	}
	kem, err := kemOf(block)
	if err != nil {
		return nil, fmt.Errorf("keys: %s: %w", path, err)
	}
	pub, err := kem.NewPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("keys: %s: %w", path, err)
	}
	return pub, nil
}

// ReadSigningPub reads an inner's signing.pub, the key packages are verified against.
func ReadSigningPub(path string) (ed25519.PublicKey, error) {
	block, err := readPEM(path, pemPublic, false)
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKIXPublicKey(block.Bytes)
	pub, ok := k.(ed25519.PublicKey)
	if err != nil || !ok {
		return nil, fmt.Errorf("keys: %s is not an Ed25519 public key", path)
	}
	return pub, nil
}

func kemOf(block *pem.Block) (hpke.KEM, error) {
	var id uint16
	if _, err := fmt.Sscanf(block.Headers["KEM"], "0x%04x", &id); err != nil {
		return nil, fmt.Errorf("missing or malformed KEM header %q", block.Headers["KEM"])
	}
	// Only the hybrid KEM: a well-formed classical key would seal packages
	// without their post-quantum half.
	if id != LicenseKEM().ID() {
		return nil, fmt.Errorf("unsupported KEM %#04x (license keys are %#04x, MLKEM768X25519)", id, LicenseKEM().ID())
	}
	return LicenseKEM(), nil
}

// LicenseFingerprint is the fingerprint of an HPKE public key.
func LicenseFingerprint(pub hpke.PublicKey) string {
	return Fingerprint(binary.BigEndian.AppendUint16(nil, pub.KEM().ID()), pub.Bytes())
}

func writeEd25519(dir, keyName, pubName string, priv ed25519.PrivateKey, pub ed25519.PublicKey) error {
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return fmt.Errorf("keys: %w", err)
	}
	if err := writeFile(filepath.Join(dir, keyName), &pem.Block{Type: pemPrivate, Bytes: der}, 0o600); err != nil {
		return err
	}
	if pubName == "" {
		return nil
	}
	spki, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return fmt.Errorf("keys: %w", err)
	}
	return writeFile(filepath.Join(dir, pubName), &pem.Block{Type: pemPublic, Bytes: spki}, 0o644)
}

// initTransfer creates the QUIC/TLS identity: an Ed25519 key and a
// self-signed certificate. Peers pin the key, not a CA, so the certificate
// only carries it; its validity is long because renewal would mean re-pairing.
func initTransfer(dir, role string) error {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return fmt.Errorf("keys: generate transfer key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return fmt.Errorf("keys: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: role + " transfer"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(20, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{role},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, priv)
	if err != nil {
		return fmt.Errorf("keys: create transfer certificate: %w", err)
	}
	if err := writeEd25519(dir, TransferKey, "", priv, pub); err != nil {
		return err
	}
	return writeFile(filepath.Join(dir, TransferCert), &pem.Block{Type: pemCertificate, Bytes: der}, 0o644)
}

func loadTransfer(dir string) (tls.Certificate, error) {
	keyBlock, err := readPEM(filepath.Join(dir, TransferKey), pemPrivate, true)
	if err != nil {
		return tls.Certificate{}, err
	}
	certBlock, err := readPEM(filepath.Join(dir, TransferCert), pemCertificate, false)
	if err != nil {
		return tls.Certificate{}, err
	}
	cert, err := tls.X509KeyPair(pem.EncodeToMemory(certBlock), pem.EncodeToMemory(keyBlock))
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("keys: transfer identity in %s: %w", dir, err)
	}
	return cert, nil
}

const pemSecret = "SEALGATE SECRET KEY"

func initSecrets(dir string) error {
	for name, n := range map[string]int{AuditKey: 32, PIIKey: 64} {
		if err := writeSecret(dir, name, n); err != nil {
			return err
		}
	}
	return nil
}

// writeSecret writes n random bytes as a private secret file.
func writeSecret(dir, name string, n int) error {
	b := make([]byte, n)
	rand.Read(b)
	return writeFile(filepath.Join(dir, name), &pem.Block{Type: pemSecret, Bytes: b}, 0o600)
}

// readSecret reads a private secret file of n bytes.
func readSecret(dir, name string, n int) ([]byte, error) {
	block, err := readPEM(filepath.Join(dir, name), pemSecret, true)
	if err != nil {
		return nil, err
	}
	if len(block.Bytes) != n {
		return nil, fmt.Errorf("keys: %s in %s has the wrong length", name, dir)
	}
	return block.Bytes, nil
}

// LoadWatermark reads only the inner's watermark secret (what `watermark`
// and `trace` need), refusing unsafe permissions.
func LoadWatermark(dir string) ([]byte, error) {
	if err := checkDir(dir); err != nil {
		return nil, err
	}
	return readSecret(dir, WatermarkKey, watermarkKeySize)
}

func loadSecrets(dir string) (*Secrets, error) {
	var s Secrets
	for name, dst := range map[string]*[]byte{AuditKey: &s.Audit, PIIKey: &s.PII} {
		block, err := readPEM(filepath.Join(dir, name), pemSecret, true)
		if err != nil {
			return nil, err
		}
		*dst = block.Bytes
	}
	if len(s.Audit) != 32 || len(s.PII) != 64 {
		return nil, fmt.Errorf("keys: %s or %s in %s has the wrong length", AuditKey, PIIKey, dir)
	}
	return &s, nil
}
