package backup_test

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"filippo.io/age"

	"sealgate/shared/backup"
)

type keyFile struct {
	name string
	mode os.FileMode
	body []byte
}

var testKeys = []keyFile{{"audit.key", 0o600, []byte("secret audit key\n")}, {"signing.pub", 0o644, []byte("public\n")}}

// archive writes a backup of testKeys and dump to recipient.
func archive(t *testing.T, dump []byte, r age.Recipient) []byte {
	t.Helper()
	var out bytes.Buffer
	m := backup.Manifest{Kind: "inner", Appliance: 7, Software: "v1.2.3", Created: time.Now(), Schema: map[string]int{"inner": 9}}
	w, err := backup.NewWriter(&out, m, r)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range testKeys {
		if err := w.AddFile(k.name, k.mode, int64(len(k.body)), bytes.NewReader(k.body)); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := w.AddDatabase(bytes.NewReader(dump)); err != nil || n != int64(len(dump)) {
		t.Fatalf("AddDatabase: %d, %v", n, err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func staging(t *testing.T) string {
	d := filepath.Join(t.TempDir(), "stage")
	if err := os.Mkdir(d, 0o700); err != nil {
		t.Fatal(err)
	}
	return d
}

// TestRoundTrip: a dump of three parts (either side of PartSize) and the
// key files with their modes come back byte for byte.
func TestRoundTrip(t *testing.T) {
	id, _ := age.GenerateX25519Identity()
	dump := make([]byte, 2*backup.PartSize+5)
	rng := rand.NewChaCha8([32]byte{1})
	rng.Read(dump)
	a := archive(t, dump, id.Recipient())

	var seen backup.Manifest
	dir := staging(t)
	c, err := backup.Extract(bytes.NewReader(a), dir, func(m backup.Manifest) error { seen = m; return nil }, id)
	if err != nil {
		t.Fatal(err)
	}
	if seen.Format != backup.Format || c.Manifest.Kind != "inner" || c.Manifest.Appliance != 7 || c.Manifest.Schema["inner"] != 9 || c.Entries != 7 {
		t.Fatalf("manifest %+v, %d entries", c.Manifest, c.Entries)
	}
	got, _ := os.ReadFile(c.Dump)
	if !bytes.Equal(got, dump) || c.DumpSize != int64(len(dump)) {
		t.Fatalf("dump: %d bytes back of %d", len(got), len(dump))
	}
	for _, k := range testKeys {
		p := filepath.Join(c.KeyDir, k.name)
		b, _ := os.ReadFile(p)
		fi, err := os.Stat(p)
		if err != nil || !bytes.Equal(b, k.body) || fi.Mode().Perm() != k.mode {
			t.Errorf("%s: %q mode %v (%v)", k.name, b, fi.Mode(), err)
		}
	}
}

// TestRefusals: a wrong key or passphrase, a flipped byte anywhere past
// the header, a cut anywhere, a newer format and a manifest the caller
// refuses are each refused with their own error.
func TestRefusals(t *testing.T) {
	id, _ := age.GenerateX25519Identity()
	other, _ := age.GenerateX25519Identity()
	dump := bytes.Repeat([]byte("PGDMP row "), 30000) // 300 kB: several age chunks
	a := archive(t, dump, id.Recipient())

	extract := func(b []byte, ids ...age.Identity) error {
		_, err := backup.Extract(bytes.NewReader(b), staging(t), nil, ids...)
		return err
	}
	if err := extract(a, other); !errors.Is(err, backup.ErrWrongKey) {
		t.Errorf("other identity: %v", err)
	}
	if err := extract([]byte("PGDMP not encrypted"), id); !errors.Is(err, backup.ErrNotArchive) {
		t.Errorf("plain input: %v", err)
	}
	hdr := bytes.Index(a, []byte("\n--- ")) + 50 // past the header's MAC line
	for _, at := range []int{hdr, hdr + 70000, len(a) / 2, len(a) - 1} {
		b := bytes.Clone(a)
		b[at] ^= 0x01
		if err := extract(b, id); !errors.Is(err, backup.ErrDamaged) {
			t.Errorf("byte %d of %d flipped: %v", at, len(a), err)
		}
	}
	for _, n := range []int{hdr, hdr + 65536 + 16, len(a) - 600, len(a) - 1} {
		if err := extract(a[:n], id); !errors.Is(err, backup.ErrDamaged) {
			t.Errorf("cut to %d of %d: %v", n, len(a), err)
		}
	}

	dir := staging(t)
	refuse := errors.New("an outer archive")
	if _, err := backup.Extract(bytes.NewReader(a), dir, func(backup.Manifest) error { return refuse }, id); !errors.Is(err, refuse) {
		t.Errorf("refused manifest: %v", err)
	}
	if es, _ := os.ReadDir(dir); len(es) != 0 {
		t.Errorf("a refused manifest left %d files", len(es))
	}

	if err := extract(futureArchive(t, id.Recipient()), id); !errors.Is(err, backup.ErrNewerFormat) {
		t.Errorf("format 2: %v", err)
	}
}

// TestPassphrase: scrypt both ways; a passphrase file others can read,
// a short one and a wrong one are refused.
func TestPassphrase(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good", "correct horse battery staple\n", 0o600)
	if _, err := backup.PassphraseRecipient(write("short", "too short\n", 0o600)); err == nil {
		t.Error("a 9-character passphrase was accepted")
	}
	if _, err := backup.PassphraseRecipient(write("open", "correct horse battery staple\n", 0o644)); err == nil {
		t.Error("a world-readable passphrase file was accepted")
	}
	if _, err := backup.PassphraseRecipient(good); err != nil {
		t.Fatal(err)
	}
	// The recipient as PassphraseRecipient makes it, at a work factor a
	// test can afford.
	r, _ := age.NewScryptRecipient("correct horse battery staple")
	r.SetWorkFactor(10)
	a := archive(t, []byte("PGDMP"), r)
	id, _ := backup.PassphraseIdentity(good)
	if _, err := backup.Extract(bytes.NewReader(a), staging(t), nil, id); err != nil {
		t.Fatal(err)
	}
	wrong, _ := backup.PassphraseIdentity(write("wrong", "correct horse battery stapler\n", 0o600))
	if _, err := backup.Extract(bytes.NewReader(a), staging(t), nil, wrong); !errors.Is(err, backup.ErrWrongKey) {
		t.Errorf("wrong passphrase: %v", err)
	}
}

// futureArchive is what a later release might write: format 2, entries
// this one does not know.
func futureArchive(t *testing.T, r age.Recipient) []byte {
	var out bytes.Buffer
	enc, _ := age.Encrypt(&out, r)
	tw := tar.NewWriter(enc)
	for name, body := range map[string]string{backup.ManifestName: `{"format":2,"kind":"inner","software_version":"v9"}`} {
		tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(body))})
		io.WriteString(tw, body)
	}
	tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "blobs/new-thing", Mode: 0o600})
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := enc.Close(); err != nil {
		t.Fatal(fmt.Errorf("encrypt: %w", err))
	}
	return out.Bytes()
}
