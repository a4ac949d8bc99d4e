package seal_test

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"errors"
	"io"
	"testing"

	"sealgate/shared/keys"
	"sealgate/shared/seal"
)

// TestPayloadKeyOpensEveryChunk: the payload key from a header read on its
// own opens each chunk with the nonce docs/package-format.md §6 states,
// written out here again rather than taken from the package, and the
// header's offsets are where the chunks are.
func TestPayloadKeyOpensEveryChunk(t *testing.T) {
	p := newParties(t)
	v := video(2*seal.ChunkSize + 100)
	pkg := sealBytes(t, p, v, nil)
	h, err := seal.ReadHeader(bytes.NewReader(pkg))
	if err != nil {
		t.Fatal(err)
	}
	if h.PayloadSize != int64(len(v)) || h.Chunks != 3 || h.Manifest.ExportCode != "SG-2026-000123" {
		t.Fatalf("header: %+v", h)
	}
	key, err := h.PayloadKey(p.license)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := aes.NewCipher(key)
	gcm, _ := cipher.NewGCM(block)
	var got []byte
	for i := range h.Chunks {
		start := h.PayloadOffset + i*(seal.ChunkSize+16)
		end := min(start+seal.ChunkSize+16, h.PayloadOffset+int64(len(v))+h.Chunks*16)
		nonce := make([]byte, 12)
		binary.BigEndian.PutUint64(nonce[3:11], uint64(i))
		if i == h.Chunks-1 {
			nonce[11] = 1
		}
		plain, err := gcm.Open(nil, nonce, pkg[start:end], nil)
		if err != nil {
			t.Fatalf("chunk %d: %v", i, err)
		}
		got = append(got, plain...)
	}
	if !bytes.Equal(got, v) {
		t.Fatal("the chunks do not decrypt to the video")
	}

	// A verified package opens with the payload key alone, all checks kept.
	vp, err := seal.Verify(bytes.NewReader(pkg), nil)
	if err != nil {
		t.Fatal(err)
	}
	k, err := vp.KeyFromPayloadKey(key)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := vp.Decrypt(&out, bytes.NewReader(pkg[vp.PayloadOffset:]), k); err != nil || !bytes.Equal(out.Bytes(), v) {
		t.Fatalf("decrypt with the payload key: %v", err)
	}
	key[0] ^= 1
	if k, _ := vp.KeyFromPayloadKey(key); vp.Decrypt(io.Discard, bytes.NewReader(pkg[vp.PayloadOffset:]), k) == nil {
		t.Fatal("a wrong payload key decrypted")
	}

	other, _ := keys.LicenseKEM().GenerateKey()
	if _, err := h.PayloadKey(other); !errors.Is(err, seal.ErrWrongRecipient) {
		t.Fatalf("another license key: %v", err)
	}
	if _, err := seal.ReadHeader(bytes.NewReader(pkg[:20])); !errors.Is(err, seal.ErrTruncated) {
		t.Fatalf("a cut header: %v", err)
	}
}
