package seal_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/hpke"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"sealgate/shared/keys"
	"sealgate/shared/seal"
)

// Cheap Argon2id for tests; real packages use DefaultArgon2.
var testArgon = seal.Argon2Params{Time: 1, MemoryKiB: 8 << 10, Threads: 1}

type parties struct {
	signer  ed25519.PrivateKey
	license hpke.PrivateKey
}

func newParties(t testing.TB) parties {
	t.Helper()
	_, signer, _ := ed25519.GenerateKey(rand.Reader)
	license, err := keys.LicenseKEM().GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return parties{signer: signer, license: license}
}

func video(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func manifestFor(v []byte) seal.Manifest {
	sum := sha256.Sum256(v)
	return seal.Manifest{
		ExportID: "0b5f6f0e-4a8c-4f7e-9d1e-2f1a3c4b5d6e", ExportCode: "SG-2026-000123",
		Camera:     seal.Camera{Name: "CAM-031", Location: "중앙로 교차로"},
		TimeFrom:   time.Date(2026, 11, 20, 14, 0, 0, 0, time.UTC),
		TimeTo:     time.Date(2026, 11, 20, 14, 5, 0, 0, time.UTC),
		ReasonCode: "PIPA-18-2-7", Recipient: seal.Recipient{Name: "김민준", Agency: "서울중부경찰서"},
		ViewFrom: time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC), ViewUntil: time.Date(2026, 12, 21, 0, 0, 0, 0, time.UTC),
		DeliveredSHA256: hex.EncodeToString(sum[:]), MediaType: "video/mp4", Watermark: "00a1b2c3d4e5f607",
		ToolVersions: map[string]string{"sealgate": "test"},
	}
}

func sealBytes(t testing.TB, p parties, v []byte, password []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	_, err := seal.Seal(&buf, bytes.NewReader(v), int64(len(v)), manifestFor(v), seal.Options{
		Signer: p.signer, Recipients: []hpke.PublicKey{p.license.PublicKey()}, Password: password, Argon2: testArgon,
	})
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func pub(p parties) ed25519.PublicKey { return p.signer.Public().(ed25519.PublicKey) }

func TestRoundTripAtChunkEdges(t *testing.T) {
	p := newParties(t)
	cs := seal.ChunkSize
	for _, n := range []int{0, 1, cs - 1, cs, cs + 1, 3*cs + 17} {
		t.Run(fmt.Sprintf("len=%d", n), func(t *testing.T) {
			t.Parallel()
			v := video(n)
			pkg := sealBytes(t, p, v, []byte("correct horse battery staple"))
			got, err := seal.Verify(bytes.NewReader(pkg), pub(p))
			if err != nil {
				t.Fatal(err)
			}
			if got.Size != int64(len(pkg)) || got.PayloadSize != int64(n) || got.Manifest.Recipient.Agency != "서울중부경찰서" {
				t.Fatalf("package: %+v", got)
			}
			for name, unwrap := range map[string]func() (*seal.Key, error){
				"license":  func() (*seal.Key, error) { return got.UnwrapLicense(p.license) },
				"password": func() (*seal.Key, error) { return got.UnwrapPassword([]byte("correct horse battery staple")) },
			} {
				k, err := unwrap()
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				var out bytes.Buffer
				if err := got.Decrypt(&out, bytes.NewReader(pkg[got.PayloadOffset:]), k); err != nil {
					t.Fatalf("%s: decrypt: %v", name, err)
				}
				if !bytes.Equal(out.Bytes(), v) {
					t.Fatalf("%s: decrypted video differs", name)
				}
			}
		})
	}
}

func TestRefusalsAreDistinct(t *testing.T) {
	p, other := newParties(t), newParties(t)
	v := video(1000)
	pkg := sealBytes(t, p, v, []byte("correct horse battery staple"))
	online := sealBytes(t, p, v, nil)
	got, err := seal.Verify(bytes.NewReader(pkg), nil)
	if err != nil {
		t.Fatal(err)
	}
	onlinePkg, _ := seal.Verify(bytes.NewReader(online), nil)

	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		{"wrong recipient", second(got.UnwrapLicense(other.license)), seal.ErrWrongRecipient},
		{"wrong password", second(got.UnwrapPassword([]byte("correct horse battery stapler"))), seal.ErrWrongPassword},
		{"no password wrap", second(onlinePkg.UnwrapPassword([]byte("x"))), seal.ErrNoPasswordWrap},
		{"other signer", second(seal.Verify(bytes.NewReader(pkg), pub(other))), seal.ErrSignerMismatch},
		{"truncated", second(seal.Verify(bytes.NewReader(pkg[:len(pkg)-1]), nil)), seal.ErrTruncated},
		{"trailing data", second(seal.Verify(bytes.NewReader(append(bytes.Clone(pkg), 0)), nil)), seal.ErrTrailingData},
		{"not a package", second(seal.Verify(bytes.NewReader([]byte("RIFF....AVI LIST")), nil)), seal.ErrNotPackage},
		{"empty file", second(seal.Verify(bytes.NewReader(nil), nil)), seal.ErrTruncated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !errors.Is(tc.err, tc.want) {
				t.Fatalf("got %v, want %v", tc.err, tc.want)
			}
		})
	}
	// Wrong recipient and wrong password must read differently to a person.
	e1, e2 := second(got.UnwrapLicense(other.license)), second(got.UnwrapPassword([]byte("nope")))
	if e1.Error() == e2.Error() {
		t.Fatal("wrong recipient and wrong password give the same message")
	}
}

func second[T any](_ T, err error) error { return err }

func TestSealRefusesBadInput(t *testing.T) {
	p := newParties(t)
	v := video(100)
	opts := seal.Options{Signer: p.signer, Recipients: []hpke.PublicKey{p.license.PublicKey()}}
	for _, tc := range []struct {
		name string
		r    io.Reader
		size int64
		m    func(*seal.Manifest)
		opts seal.Options
		want error
	}{
		{"input shorter than size", bytes.NewReader(v[:50]), 100, nil, opts, seal.ErrInputChanged},
		{"input longer than size", bytes.NewReader(v), 50, nil, opts, seal.ErrInputChanged},
		{"bad digest field", bytes.NewReader(v), 100, func(m *seal.Manifest) { m.DeliveredSHA256 = "xyz" }, opts, seal.ErrMalformed},
		{"view window backwards", bytes.NewReader(v), 100, func(m *seal.Manifest) { m.ViewUntil = m.ViewFrom.Add(-time.Hour) }, opts, seal.ErrMalformed},
		{"nobody can open", bytes.NewReader(v), 100, nil, seal.Options{Signer: p.signer}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := manifestFor(v)
			if tc.m != nil {
				tc.m(&m)
			}
			_, err := seal.Seal(io.Discard, tc.r, tc.size, m, tc.opts)
			if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

func TestReaderAtRandomAccess(t *testing.T) {
	p := newParties(t)
	v := video(5*seal.ChunkSize + 333)
	pkg := sealBytes(t, p, v, nil)
	got, err := seal.Verify(bytes.NewReader(pkg), pub(p))
	if err != nil {
		t.Fatal(err)
	}
	k, err := got.UnwrapLicense(p.license)
	if err != nil {
		t.Fatal(err)
	}
	ra := got.NewReaderAt(bytes.NewReader(pkg), k)
	for _, r := range [][2]int{{0, 10}, {seal.ChunkSize - 5, 10}, {2*seal.ChunkSize + 1, 3 * seal.ChunkSize}, {len(v) - 7, 7}, {len(v) - 7, 20}} {
		buf := make([]byte, r[1])
		n, err := ra.ReadAt(buf, int64(r[0]))
		want := v[r[0]:min(r[0]+r[1], len(v))]
		if !bytes.Equal(buf[:n], want) || (n < r[1]) != (err == io.EOF) {
			t.Fatalf("ReadAt(%d, %d) = %d, %v", r[0], r[1], n, err)
		}
	}
	// Reading a range authenticates only that range, and still catches tampering there.
	bad := bytes.Clone(pkg)
	bad[got.PayloadOffset+int64(2*(seal.ChunkSize+16))+5] ^= 1
	_, err = got.NewReaderAt(bytes.NewReader(bad), k).ReadAt(make([]byte, 10), 2*seal.ChunkSize)
	var ce *seal.ChunkError
	if !errors.As(err, &ce) || ce.Index != 2 || !errors.Is(err, seal.ErrTampered) {
		t.Fatalf("tampered chunk 2: %v", err)
	}
	if _, err := got.NewReaderAt(bytes.NewReader(bad), k).ReadAt(make([]byte, 10), 0); err != nil {
		t.Fatalf("untouched chunk 0: %v", err)
	}
}

func TestManifestIsCanonicalAndStable(t *testing.T) {
	v := video(10)
	m := manifestFor(v)
	m.CreatedAt = time.Date(2026, 11, 23, 9, 0, 0, 123456789, time.FixedZone("KST", 9*3600))
	a, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := m.Encode()
	if !bytes.Equal(a, b) {
		t.Fatal("two encodings differ")
	}
	if !bytes.Contains(a, []byte(`"created_at":"2026-11-23T00:00:00Z"`)) {
		t.Fatalf("time not normalised to UTC seconds: %s", a)
	}
}

func TestLicenseIDMatchesKeysFingerprint(t *testing.T) {
	p := newParties(t)
	id := seal.RecipientID(p.license.PublicKey())
	if "sha256:"+hex.EncodeToString(id[:]) != keys.LicenseFingerprint(p.license.PublicKey()) {
		t.Fatal("seal.RecipientID and keys.LicenseFingerprint disagree")
	}
}
