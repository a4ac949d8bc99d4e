package keys_test

import (
	"crypto/ed25519"
	"crypto/hpke"
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sealgate/shared/keys"
)

func TestInnerKeys(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	if err := keys.InitInner(dir); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]os.FileMode{keys.SigningKey: 0o600, keys.TransferKey: 0o600, keys.WatermarkKey: 0o600, keys.SigningPub: 0o644, keys.TransferCert: 0o644} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: mode %v (%v), want %#o", name, fi.Mode().Perm(), err, want)
		}
	}
	k, err := keys.LoadInner(dir)
	if err != nil {
		t.Fatal(err)
	}
	wm, err := keys.LoadWatermark(dir)
	if err != nil || len(k.Watermark) != 32 || string(wm) != string(k.Watermark) {
		t.Fatalf("watermark key: %d bytes, LoadWatermark %x (%v)", len(k.Watermark), wm, err)
	}
	pub, err := keys.ReadSigningPub(filepath.Join(dir, keys.SigningPub))
	if err != nil {
		t.Fatal(err)
	}
	sig := ed25519.Sign(k.Signing, []byte("manifest"))
	if !ed25519.Verify(pub, []byte("manifest"), sig) {
		t.Fatal("signing.pub does not verify signing.key's signature")
	}

	shown, err := keys.Show(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(shown) != 2 || shown[0].Name != "signing" || shown[1].Name != "transfer" {
		t.Fatalf("Show: %+v", shown)
	}
	if shown[0].Fingerprint != keys.Fingerprint(pub) {
		t.Error("signing fingerprint does not match the key")
	}
	leaf, _ := x509.ParseCertificate(k.Transfer.Certificate[0])
	if shown[1].Fingerprint != keys.CertFingerprint(leaf) {
		t.Error("transfer fingerprint does not match the loaded identity")
	}

	if err := keys.InitInner(dir); !errors.Is(err, keys.ErrExist) {
		t.Fatalf("second init: got %v, want ErrExist", err)
	}
}

func TestOuterKeysSealToLicense(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	if err := keys.InitOuter(dir); err != nil {
		t.Fatal(err)
	}
	k, err := keys.LoadOuter(dir)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := keys.ReadLicensePub(filepath.Join(dir, keys.LicensePub))
	if err != nil {
		t.Fatal(err)
	}
	if pub.KEM().ID() != hpke.MLKEM768X25519().ID() {
		t.Fatalf("license KEM %#x, want MLKEM768X25519", pub.KEM().ID())
	}
	ct, err := hpke.Seal(pub, hpke.HKDFSHA256(), hpke.AES256GCM(), []byte("info"), []byte("content key"))
	if err != nil {
		t.Fatal(err)
	}
	pt, err := hpke.Open(k.License, hpke.HKDFSHA256(), hpke.AES256GCM(), []byte("info"), ct)
	if err != nil || string(pt) != "content key" {
		t.Fatalf("open with license.key: %q, %v", pt, err)
	}
	shown, err := keys.Show(dir)
	if err != nil || len(shown) != 2 || shown[0].Fingerprint != keys.LicenseFingerprint(pub) {
		t.Fatalf("Show: %+v, %v", shown, err)
	}
}

func TestUnsafePermissionsRefused(t *testing.T) {
	for _, tc := range []struct {
		name  string
		chmod func(dir string) error
	}{
		{"signing key 0644", func(d string) error { return os.Chmod(filepath.Join(d, keys.SigningKey), 0o644) }},
		{"transfer key 0640", func(d string) error { return os.Chmod(filepath.Join(d, keys.TransferKey), 0o640) }},
		{"directory writable by others", func(d string) error { return os.Chmod(d, 0o777) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "keys")
			if err := keys.InitInner(dir); err != nil {
				t.Fatal(err)
			}
			if err := tc.chmod(dir); err != nil {
				t.Fatal(err)
			}
			_, err := keys.LoadInner(dir)
			if !errors.Is(err, keys.ErrPermissions) {
				t.Fatalf("got %v, want ErrPermissions", err)
			}
			if !strings.Contains(err.Error(), "chmod") {
				t.Errorf("error %q does not say how to fix it", err)
			}
		})
	}
}

func TestCorruptKeyFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	if err := keys.InitOuter(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, keys.LicensePub), []byte("not pem"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := keys.ReadLicensePub(filepath.Join(dir, keys.LicensePub)); err == nil {
		t.Fatal("garbage license.pub accepted")
	}
	if _, err := keys.Show(t.TempDir()); err == nil || !strings.Contains(err.Error(), "keys init") {
		t.Fatalf("Show on an empty directory: %v", err)
	}
}

func TestGrouped(t *testing.T) {
	if got := keys.Grouped("sha256:0123456789ab"); got != "0123 4567 89ab" {
		t.Fatalf("Grouped = %q", got)
	}
}
