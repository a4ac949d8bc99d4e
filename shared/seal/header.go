package seal

import (
	"crypto/hpke"
	"fmt"
	"io"
)

// Header is a package's header read on its own, without the payload and
// without checking the signature: for a package this appliance verified
// when it arrived and keeps in its own store (the outer's license service,
// which must not read a whole package to release a key for it). Anything
// else must use [Verify].
type Header struct {
	Manifest      *Manifest
	PayloadSize   int64 // plaintext bytes
	PayloadOffset int64 // where chunk 0 starts: 14 + H
	Chunks        int64 // N, each sealed chunk ChunkSize+16 bytes but the last

	h *header
}

// ReadHeader parses the preamble and header at the start of r as strictly
// as [Verify] does, manifest included.
func ReadHeader(r io.Reader) (*Header, error) {
	h, head, err := readHeader(r)
	if err != nil {
		return nil, err
	}
	m, err := parseManifest(h.manifest)
	if err != nil {
		return nil, err
	}
	if m.SignerKeyID != KeyID(h.signer) || m.DeliveredSize != h.payloadSize {
		return nil, malformed("manifest signer_key_id or delivered_size disagrees with the header")
	}
	return &Header{Manifest: m, PayloadSize: h.payloadSize, PayloadOffset: int64(len(head)), Chunks: chunks(h.payloadSize), h: h}, nil
}

// PayloadKey opens the header's HPKE wrap for the license key priv and
// returns the 32-byte AES-256-GCM key the payload's chunks are sealed with
// (docs/package-format.md §6), to be wrapped again for a player that
// decrypts by itself. The caller must clear it when done.
func (h *Header) PayloadKey(priv hpke.PrivateKey) ([]byte, error) {
	fileKey, err := h.h.unwrapLicense(priv)
	if err != nil {
		return nil, err
	}
	defer clear(fileKey)
	return payloadKey(fileKey, h.h.nonce[:])
}

// KeyFromPayloadKey makes the Key of a verified package from its payload
// key as a license service released it (sealgate-open decrypt --portal):
// [Package.Decrypt] then authenticates every chunk and the video's SHA-256
// as with any other key.
func (p *Package) KeyFromPayloadKey(key []byte) (*Key, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("seal: a payload key is 32 bytes, not %d", len(key))
	}
	s, err := keyedStream(key, p.PayloadSize)
	if err != nil {
		return nil, err
	}
	return &Key{s: s}, nil
}
