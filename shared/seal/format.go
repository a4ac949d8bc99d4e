package seal

import (
	"crypto/ed25519"
	"encoding/binary"
	"fmt"
	"io"
)

// Format constants of version 1 (docs/package-format.md).
const (
	Magic   = "SEALGATE"
	Version = 1
	// ChunkSize is the plaintext size of every payload chunk but the last.
	ChunkSize = 64 << 10

	preambleSize  = len(Magic) + 2 + 4 // magic, version u16, header length u32
	maxHeaderSize = 1 << 20
	maxWraps      = 8
	nonceSize     = 32 // payload key salt
	tagSize       = 16
	trailerSize   = 32 + ed25519.SignatureSize // payload SHA-256, signature

	wrapHPKE     = 1
	wrapPassword = 2
)

// header is the signed part of a package after the preamble.
type header struct {
	signer      ed25519.PublicKey
	nonce       [nonceSize]byte
	payloadSize int64
	manifest    []byte
	wraps       []wrap
}

// wrap is one stanza holding the file key, wrapped for one way of opening.
type wrap struct {
	typ  byte
	body []byte
}

// chunks is how many chunks a payload of size bytes has: at least one, so
// an empty payload still carries an authenticated last chunk.
func chunks(size int64) int64 { return max(1, (size+ChunkSize-1)/ChunkSize) }

// encryptedSize is the payload's size on disk.
func encryptedSize(size int64) int64 { return size + chunks(size)*tagSize }

// encode returns preamble and header, the bytes the signature starts with.
func (h *header) encode() ([]byte, error) {
	if len(h.manifest) > MaxManifestSize {
		return nil, fmt.Errorf("seal: manifest is %d bytes, more than %d", len(h.manifest), MaxManifestSize)
	}
	if len(h.wraps) == 0 || len(h.wraps) > maxWraps {
		return nil, fmt.Errorf("seal: %d key wraps; between 1 and %d allowed", len(h.wraps), maxWraps)
	}
	body := make([]byte, 0, 256+len(h.manifest))
	body = append(body, h.signer...)
	body = append(body, h.nonce[:]...)
	body = binary.BigEndian.AppendUint64(body, uint64(h.payloadSize))
	body = binary.BigEndian.AppendUint32(body, ChunkSize)
	body = binary.BigEndian.AppendUint32(body, uint32(len(h.manifest)))
	body = append(body, h.manifest...)
	body = append(body, byte(len(h.wraps)))
	for _, w := range h.wraps {
		body = append(body, w.typ)
		body = binary.BigEndian.AppendUint16(body, uint16(len(w.body)))
		body = append(body, w.body...)
	}
	if len(body) > maxHeaderSize {
		return nil, fmt.Errorf("seal: header is %d bytes, more than %d", len(body), maxHeaderSize)
	}
	out := make([]byte, 0, preambleSize+len(body))
	out = append(out, Magic...)
	out = binary.BigEndian.AppendUint16(out, Version)
	out = binary.BigEndian.AppendUint32(out, uint32(len(body)))
	return append(out, body...), nil
}

// readHeader reads and strictly parses preamble and header from r, returning
// them with the raw bytes the signature covers.
func readHeader(r io.Reader) (*header, []byte, error) {
	pre := make([]byte, preambleSize)
	if _, err := io.ReadFull(r, pre); err != nil {
		return nil, nil, shortRead(err, "preamble")
	}
	if string(pre[:len(Magic)]) != Magic {
		return nil, nil, ErrNotPackage
	}
	if v := binary.BigEndian.Uint16(pre[8:]); v != Version {
		return nil, nil, fmt.Errorf("%w: version %d (this reader knows %d)", ErrUnsupportedVersion, v, Version)
	}
	n := binary.BigEndian.Uint32(pre[10:])
	if n > maxHeaderSize {
		return nil, nil, malformed("header length %d exceeds %d", n, maxHeaderSize)
	}
	raw := make([]byte, preambleSize+int(n))
	copy(raw, pre)
	if _, err := io.ReadFull(r, raw[preambleSize:]); err != nil {
		return nil, nil, shortRead(err, "header")
	}
	h, err := parseHeader(raw[preambleSize:])
	if err != nil {
		return nil, nil, err
	}
	return h, raw, nil
}

func parseHeader(b []byte) (*header, error) {
	p := parser{b: b}
	h := &header{signer: ed25519.PublicKey(p.bytes(ed25519.PublicKeySize))}
	copy(h.nonce[:], p.bytes(nonceSize))
	size := p.u64()
	if chunk := p.u32(); p.err == nil && chunk != ChunkSize {
		return nil, malformed("chunk size %d (version 1 uses %d)", chunk, ChunkSize)
	}
	mlen := p.u32()
	if mlen > MaxManifestSize {
		return nil, malformed("manifest length %d exceeds %d", mlen, MaxManifestSize)
	}
	h.manifest = p.bytes(int(mlen))
	count := int(p.u8())
	if p.err == nil && (count == 0 || count > maxWraps) {
		return nil, malformed("%d key wraps; between 1 and %d allowed", count, maxWraps)
	}
	for range count {
		w := wrap{typ: p.u8()}
		w.body = p.bytes(int(p.u16()))
		if p.err == nil && w.typ != wrapHPKE && w.typ != wrapPassword {
			return nil, malformed("unknown key wrap type %d", w.typ)
		}
		h.wraps = append(h.wraps, w)
	}
	if p.err != nil {
		return nil, p.err
	}
	if len(p.b) != 0 {
		return nil, malformed("%d bytes after the key wraps", len(p.b))
	}
	if size > 1<<62 { // keeps size arithmetic far from overflow
		return nil, malformed("payload size %d", size)
	}
	h.payloadSize = int64(size)
	return h, nil
}

// parser reads big-endian fields, remembering the first overrun.
type parser struct {
	b   []byte
	err error
}

func (p *parser) bytes(n int) []byte {
	if p.err != nil {
		return nil
	}
	if n > len(p.b) {
		p.err = malformed("header ends early")
		return nil
	}
	v := p.b[:n:n]
	p.b = p.b[n:]
	return v
}

func (p *parser) u8() byte {
	if b := p.bytes(1); b != nil {
		return b[0]
	}
	return 0
}

func (p *parser) u16() uint16 {
	if b := p.bytes(2); b != nil {
		return binary.BigEndian.Uint16(b)
	}
	return 0
}

func (p *parser) u32() uint32 {
	if b := p.bytes(4); b != nil {
		return binary.BigEndian.Uint32(b)
	}
	return 0
}

func (p *parser) u64() uint64 {
	if b := p.bytes(8); b != nil {
		return binary.BigEndian.Uint64(b)
	}
	return 0
}

func shortRead(err error, what string) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return fmt.Errorf("%w: in the %s", ErrTruncated, what)
	}
	return fmt.Errorf("seal: read %s: %w", what, err)
}
