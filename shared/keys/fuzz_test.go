package keys

import (
	"bytes"
	"crypto/ecdh"
	"crypto/hpke"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fuzzKeyDir is a key directory made by init, once per fuzzing process.
func fuzzKeyDir(f *testing.F, init func(dir string) error) string {
	dir := filepath.Join(f.TempDir(), "keys")
	if err := init(dir); err != nil {
		f.Fatal(err)
	}
	return dir
}

func readFile(tb testing.TB, dir, name string) []byte {
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// fuzzFile is where a target writes its input: one path per fuzzing
// process, rewritten for each input (the inputs of one process run one at
// a time), so an input costs a write, not a directory.
func fuzzFile(f *testing.F, name string) func(t *testing.T, data []byte) string {
	path := filepath.Join(f.TempDir(), name)
	return func(t *testing.T, data []byte) string {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
}

// checkKeysError: every refusal is the package's, naming what failed.
func checkKeysError(t *testing.T, err error) {
	if !strings.HasPrefix(err.Error(), "keys: ") {
		t.Fatalf("error %q is not the keys package's", err)
	}
}

// onlyBlock asserts that an accepted file is one PEM block of type typ
// and nothing else but white space, and returns it.
func onlyBlock(t *testing.T, data []byte, typ string) *pem.Block {
	trimmed := bytes.TrimSpace(data)
	block, rest := pem.Decode(trimmed)
	if block == nil || block.Type != typ || len(rest) != 0 ||
		!bytes.HasPrefix(trimmed, []byte("-----BEGIN ")) || bytes.Count(trimmed, []byte("-----BEGIN")) != 1 {
		t.Fatalf("accepted %q, which is not one %s block alone", data, typ)
	}
	return block
}

// pemSeeds adds a real file and hostile variants of it.
func pemSeeds(f *testing.F, real []byte) {
	f.Add(real)
	f.Add(append([]byte("garbage before the block\n"), real...))
	f.Add(append(append([]byte{}, real...), real...))
	f.Add(bytes.ReplaceAll(real, []byte("\n"), []byte("\r\n")))
	f.Add(real[:len(real)/2])
}

// FuzzReadSigningPub: a signing.pub is copied to the outer and to officers
// from outside. An accepted file is one PUBLIC KEY block holding the
// canonical PKIX encoding of a 32-byte Ed25519 key.
func FuzzReadSigningPub(f *testing.F) {
	pemSeeds(f, readFile(f, fuzzKeyDir(f, InitInner), SigningPub))
	write := fuzzFile(f, SigningPub)
	f.Fuzz(func(t *testing.T, data []byte) {
		pub, err := ReadSigningPub(write(t, data))
		if err != nil {
			checkKeysError(t, err)
			return
		}
		block := onlyBlock(t, data, pemPublic)
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil || len(pub) != 32 || !bytes.Equal(der, block.Bytes) {
			t.Fatalf("accepted key %x from DER %x (%v)", pub, block.Bytes, err)
		}
	})
}

// FuzzReadLicensePub: a license.pub is copied to the inner from outside.
// An accepted file is one HPKE public key block whose key is the hybrid
// license KEM's and serialises to the block's bytes.
func FuzzReadLicensePub(f *testing.F) {
	real := readFile(f, fuzzKeyDir(f, InitOuter), LicensePub)
	pemSeeds(f, real)
	f.Add(bytes.Replace(real, []byte("KEM: 0x647a"), []byte("KEM: 0x0020"), 1))
	weak, _ := x25519License(f)
	f.Add(weak) // a well-formed key of classical X25519 alone
	write := fuzzFile(f, LicensePub)
	f.Fuzz(func(t *testing.T, data []byte) {
		pub, err := ReadLicensePub(write(t, data))
		if err != nil {
			checkKeysError(t, err)
			return
		}
		block := onlyBlock(t, data, pemHPKEPublic)
		if pub.KEM().ID() != LicenseKEM().ID() || !bytes.Equal(pub.Bytes(), block.Bytes) {
			t.Fatalf("accepted KEM %#04x key %x from %x", pub.KEM().ID(), pub.Bytes(), block.Bytes)
		}
	})
}

// FuzzTransferFingerprint: a peer's transfer.crt is read when pairing. An
// accepted file is one certificate block, and its fingerprint is sha256:
// and 64 hex digits.
func FuzzTransferFingerprint(f *testing.F) {
	pemSeeds(f, readFile(f, fuzzKeyDir(f, InitInner), TransferCert))
	write := fuzzFile(f, TransferCert)
	f.Fuzz(func(t *testing.T, data []byte) {
		fp, err := TransferFingerprint(write(t, data))
		if err != nil {
			checkKeysError(t, err)
			return
		}
		onlyBlock(t, data, pemCertificate)
		if h, ok := strings.CutPrefix(fp, "sha256:"); !ok || len(h) != 64 || strings.Trim(h, "0123456789abcdef") != "" {
			t.Fatalf("fingerprint %q", fp)
		}
	})
}

// fuzzLoad fuzzes one private file of a key directory at a time (which
// picks it), seeded with the real files: load must refuse with the
// package's error or return keys of their kinds and sizes, and a file it
// accepts in place of the real one is one PEM block alone.
func fuzzLoad(f *testing.F, dir string, names []string, load func(t *testing.T, dir string) error) {
	for i, n := range names {
		real := readFile(f, dir, n)
		f.Add(uint8(i), real)
		f.Add(uint8(i), append([]byte("garbage\n"), real...))
		f.Add(uint8(i), real[:len(real)-40])
	}
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		name := names[int(which)%len(names)]
		path, real := filepath.Join(dir, name), readFile(t, dir, name)
		// In place, put back after: a copy of the directory per input
		// would cost more than the load.
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		defer os.WriteFile(path, real, 0o600)
		if err := load(t, dir); err != nil {
			if !errors.Is(err, ErrPermissions) {
				checkKeysError(t, err)
			}
			return
		}
		if !bytes.Equal(data, real) {
			onlyBlock(t, data, map[string]string{
				SigningKey: pemPrivate, TransferKey: pemPrivate, TransferCert: pemCertificate,
				LicenseKey: pemHPKEPrivate, AuditKey: pemSecret, PIIKey: pemSecret, WatermarkKey: pemSecret,
			}[name])
		}
	})
}

// FuzzLoadInner fuzzes each file LoadInner reads.
func FuzzLoadInner(f *testing.F) {
	fuzzLoad(f, fuzzKeyDir(f, InitInner), []string{SigningKey, TransferKey, TransferCert, AuditKey, PIIKey, WatermarkKey}, func(t *testing.T, dir string) error {
		k, err := LoadInner(dir)
		if err == nil && (len(k.Signing) != 64 || len(k.Watermark) != 32 || len(k.Audit) != 32 || len(k.PII) != 64 || k.Transfer.PrivateKey == nil) {
			t.Fatalf("LoadInner returned keys of %d, %d, %d and %d bytes", len(k.Signing), len(k.Watermark), len(k.Audit), len(k.PII))
		}
		return err
	})
}

// FuzzLoadOuter fuzzes each file LoadOuter reads.
func FuzzLoadOuter(f *testing.F) {
	_, weak := x25519License(f)
	f.Add(uint8(0), weak)
	fuzzLoad(f, fuzzKeyDir(f, InitOuter), []string{LicenseKey, TransferKey, TransferCert, AuditKey, PIIKey}, func(t *testing.T, dir string) error {
		k, err := LoadOuter(dir)
		if err == nil && (k.License.KEM().ID() != LicenseKEM().ID() || len(k.Audit) != 32 || len(k.PII) != 64 || k.Transfer.PrivateKey == nil) {
			t.Fatalf("LoadOuter returned a KEM %#04x key or secrets of the wrong size", k.License.KEM().ID())
		}
		return err
	})
}

// x25519License is a license.pub and license.key of DHKEM(X25519) alone,
// well formed but without the post-quantum half license keys must have.
func x25519License(f *testing.F) (pub, priv []byte) {
	kem := hpke.DHKEM(ecdh.X25519())
	k, err := kem.GenerateKey()
	if err != nil {
		f.Fatal(err)
	}
	raw, err := k.Bytes()
	if err != nil {
		f.Fatal(err)
	}
	h := map[string]string{"KEM": fmt.Sprintf("%#04x", kem.ID())}
	return pem.EncodeToMemory(&pem.Block{Type: pemHPKEPublic, Headers: h, Bytes: k.PublicKey().Bytes()}),
		pem.EncodeToMemory(&pem.Block{Type: pemHPKEPrivate, Headers: h, Bytes: raw})
}
