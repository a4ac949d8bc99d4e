package seal

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/hpke"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var updateVectors = flag.Bool("update-vectors", false, "regenerate testdata/vectors (they are a compatibility contract: do so only for a new format version)")

// vector is one file of testdata/vectors: headers, a blank line, the package in base64.
type vector struct {
	name     string
	expect   string
	comment  string
	signer   ed25519.PublicKey
	license  hpke.PrivateKey
	password []byte
	sha256   string
	pkg      []byte
}

// Expectations, and what a reader must report for each.
var expectations = map[string]error{
	"success":          nil,
	"bad signature":    ErrBadSignature,
	"truncated":        ErrTruncated,
	"reordered chunk":  ErrBadSignature, // and ErrTampered at chunk level, checked below
	"wrong key":        ErrWrongRecipient,
	"wrong password":   ErrWrongPassword,
	"no password wrap": ErrNoPasswordWrap,
	"unknown version":  ErrUnsupportedVersion,
	"signer mismatch":  ErrSignerMismatch,
	"not a package":    ErrNotPackage,
	"malformed":        ErrMalformed,
}

func TestVectors(t *testing.T) {
	if *updateVectors {
		generateVectors(t)
	}
	files, _ := filepath.Glob("testdata/vectors/*.txt")
	if len(files) < len(expectations) {
		t.Fatalf("found %d vectors, want at least one per expectation (%d)", len(files), len(expectations))
	}
	seen := map[string]bool{}
	for _, f := range files {
		v := readVector(t, f)
		seen[v.expect] = true
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			want, ok := expectations[v.expect]
			if !ok {
				t.Fatalf("unknown expectation %q", v.expect)
			}
			if err := openVector(v); !errors.Is(err, want) || (want == nil) != (err == nil) {
				t.Fatalf("expect: %s; got %v", v.expect, err)
			}
			if v.expect == "reordered chunk" {
				err := decryptUnverified(v)
				if !errors.Is(err, ErrTampered) {
					t.Fatalf("chunk-level decryption of a reordered payload: %v, want ErrTampered", err)
				}
			}
		})
	}
	for e := range expectations {
		if !seen[e] {
			t.Errorf("no vector for expectation %q", e)
		}
	}
}

// openVector does what an opener does: verify (pinned), unwrap, decrypt, compare.
func openVector(v *vector) error {
	p, err := Verify(bytes.NewReader(v.pkg), v.signer)
	if err != nil {
		return err
	}
	var k *Key
	if v.password != nil {
		k, err = p.UnwrapPassword(v.password)
	} else {
		k, err = p.UnwrapLicense(v.license)
	}
	if err != nil {
		return err
	}
	h := sha256.New()
	if err := p.Decrypt(h, bytes.NewReader(v.pkg[p.PayloadOffset:]), k); err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != v.sha256 {
		return fmt.Errorf("plaintext sha256 %s, vector says %s", got, v.sha256)
	}
	return nil
}

// decryptUnverified decrypts chunk by chunk without the signature pass, as
// a streaming player does, so STREAM alone must catch the attack.
func decryptUnverified(v *vector) error {
	r := bytes.NewReader(v.pkg)
	h, _, err := readHeader(r)
	if err != nil {
		return err
	}
	fileKey, err := h.unwrapLicense(v.license)
	if err != nil {
		return err
	}
	s, err := newStream(fileKey, h.nonce[:], h.payloadSize)
	if err != nil {
		return err
	}
	buf := make([]byte, ChunkSize+tagSize)
	for i := range s.chunks {
		n := chunkLen(h.payloadSize, i) + tagSize
		if _, err := io.ReadFull(r, buf[:n]); err != nil {
			return err
		}
		if _, err := s.open(nil, buf[:n], i); err != nil {
			return err
		}
	}
	return nil
}

func readVector(t testing.TB, path string) *vector {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	v := &vector{name: strings.TrimSuffix(filepath.Base(path), ".txt")}
	sc := bufio.NewScanner(f)
	for sc.Scan() && sc.Text() != "" {
		k, val, _ := strings.Cut(sc.Text(), ": ")
		switch k {
		case "expect":
			v.expect = val
		case "comment":
			v.comment = val
		case "signer":
			v.signer = mustB64(t, val)
		case "license":
			if v.license, err = hpke.MLKEM768X25519().NewPrivateKey(mustB64(t, val)); err != nil {
				t.Fatal(err)
			}
		case "password":
			v.password = []byte(val)
		case "plaintext-sha256":
			v.sha256 = val
		default:
			t.Fatalf("%s: unknown header %q", path, k)
		}
	}
	var body strings.Builder
	for sc.Scan() {
		body.WriteString(sc.Text())
	}
	v.pkg = mustB64(t, body.String())
	return v
}

func mustB64(t testing.TB, s string) []byte {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeVector(t *testing.T, v *vector) {
	var b strings.Builder
	fmt.Fprintf(&b, "expect: %s\ncomment: %s\nsigner: %s\n", v.expect, v.comment, base64.StdEncoding.EncodeToString(v.signer))
	if v.license != nil {
		seed, _ := v.license.Bytes()
		fmt.Fprintf(&b, "license: %s\n", base64.StdEncoding.EncodeToString(seed))
	}
	if v.password != nil {
		fmt.Fprintf(&b, "password: %s\n", v.password)
	}
	if v.sha256 != "" {
		fmt.Fprintf(&b, "plaintext-sha256: %s\n", v.sha256)
	}
	b.WriteString("\n")
	enc := base64.StdEncoding.EncodeToString(v.pkg)
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\n")
	if err := os.WriteFile(filepath.Join("testdata/vectors", v.name+".txt"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// generateVectors writes the vector set with fresh test keys.
func generateVectors(t *testing.T) {
	_, signer, _ := ed25519.GenerateKey(rand.Reader)
	_, stranger, _ := ed25519.GenerateKey(rand.Reader)
	license, _ := hpke.MLKEM768X25519().GenerateKey()
	otherLicense, _ := hpke.MLKEM768X25519().GenerateKey()
	pub := signer.Public().(ed25519.PublicKey)
	password := []byte("kyoung-chal 2026 evidence!")
	cheap := Argon2Params{Time: 1, MemoryKiB: 8 << 10, Threads: 1}
	mk := func(size int, withPassword bool) ([]byte, string) {
		plain := make([]byte, size)
		rand.Read(plain)
		sum := sha256.Sum256(plain)
		m := Manifest{ExportCode: "SG-2026-000042", Camera: Camera{Name: "CAM-007", Location: "시청 앞"}, DeliveredSHA256: hex.EncodeToString(sum[:]),
			MediaType: "video/mp4", CreatedAt: time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)}
		opts := Options{Signer: signer, Recipients: []hpke.PublicKey{license.PublicKey()}, Argon2: cheap}
		if withPassword {
			opts.Password = password
		}
		var buf bytes.Buffer
		if _, err := Seal(&buf, bytes.NewReader(plain), int64(size), m, opts); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes(), hex.EncodeToString(sum[:])
	}
	small, smallSum := mk(1000, true)
	online, _ := mk(1000, false)
	two, twoSum := mk(2*ChunkSize, false)
	base := func(name, expect, comment string, pkg []byte) *vector {
		return &vector{name: name, expect: expect, comment: comment, signer: pub, license: license, pkg: pkg}
	}

	v := base("success_license", "success", "1000-byte video sealed to the license key, opened with it", small)
	v.sha256 = smallSum
	writeVector(t, v)
	v = base("success_password", "success", "the same package opened offline with its password", small)
	v.password, v.sha256 = password, smallSum
	writeVector(t, v)
	v = base("success_two_chunks", "success", "two full 64 KiB chunks", two)
	v.sha256 = twoSum
	writeVector(t, v)

	bad := bytes.Clone(small)
	bad[preambleSize+32+32+8+4+4+10] ^= 0x20 // a letter of the manifest
	writeVector(t, base("bad_signature_manifest", "bad signature", "one manifest byte changed after signing", bad))
	bad = bytes.Clone(small)
	bad[len(bad)-trailerSize-5] ^= 1
	writeVector(t, base("bad_signature_payload", "bad signature", "one payload byte changed", bad))
	writeVector(t, base("truncated", "truncated", "cut in the middle of the payload", small[:len(small)-trailerSize-200]))
	writeVector(t, base("truncated_trailer", "truncated", "signature cut short", small[:len(small)-10]))

	p, err := Verify(bytes.NewReader(two), pub)
	if err != nil {
		t.Fatal(err)
	}
	c := int(p.PayloadOffset)
	n := ChunkSize + tagSize
	swapped := bytes.Clone(two)
	copy(swapped[c:c+n], two[c+n:c+2*n])
	copy(swapped[c+n:c+2*n], two[c:c+n])
	writeVector(t, base("reordered_chunk", "reordered chunk", "the two payload chunks swapped", swapped))

	v = base("wrong_key", "wrong key", "opened with a license key it was not sealed to", small)
	v.license = otherLicense
	writeVector(t, v)
	v = base("wrong_password", "wrong password", "opened with a wrong password", small)
	v.password = []byte("kyoung-chal 2026 evidence?")
	writeVector(t, v)
	v = base("no_password_wrap", "no password wrap", "online-only package opened with a password", online)
	v.password = password
	writeVector(t, v)
	v = base("signer_mismatch", "signer mismatch", "verified against another appliance's signing key", small)
	v.signer = stranger.Public().(ed25519.PublicKey)
	writeVector(t, v)

	bad = bytes.Clone(small)
	binary.BigEndian.PutUint16(bad[8:], 2)
	writeVector(t, base("unknown_version", "unknown version", "format version 2", bad))
	writeVector(t, base("not_a_package", "not a package", "an MP4 file's first bytes", []byte("\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41")))

	// Signed but not understood: a reader must refuse what it cannot parse
	// even when the signature is good.
	writeVector(t, base("unknown_wrap_type", "malformed", "a signed package with a key wrap of type 9", resign(t, small, signer, func(h *header) {
		h.wraps = append(h.wraps, wrap{typ: 9, body: []byte("future")})
	})))
	writeVector(t, base("noncanonical_manifest", "malformed", "a signed manifest with a space after a colon", resign(t, small, signer, func(h *header) {
		h.manifest = bytes.Replace(h.manifest, []byte(`"export_code":`), []byte(`"export_code": `), 1)
	})))
}

// resign changes a package's header and signs it again over the same payload.
func resign(t *testing.T, pkg []byte, signer ed25519.PrivateKey, change func(*header)) []byte {
	h, head, err := readHeader(bytes.NewReader(pkg))
	if err != nil {
		t.Fatal(err)
	}
	payload := pkg[len(head) : len(pkg)-trailerSize]
	change(h)
	newHead, err := h.encode()
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256(payload)
	out := append(bytes.Clone(newHead), payload...)
	out = append(out, digest[:]...)
	return append(out, ed25519.Sign(signer, signedMessage(newHead, digest[:]))...)
}
