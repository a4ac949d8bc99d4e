package seal

import (
	"bytes"
	"crypto/ed25519"
	"crypto/hpke"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sync"
)

// Package is a package whose structure and signature have been verified.
type Package struct {
	Manifest    *Manifest
	Signer      ed25519.PublicKey
	PayloadSize int64 // plaintext bytes
	// PayloadOffset is where the encrypted payload starts in the file.
	PayloadOffset int64
	// Size is the whole package's size in bytes.
	Size int64

	h *header
}

// Verify reads a whole package from r and checks its structure and its
// signature, and that signer made it when signer is not nil. It needs no
// decryption key: anyone holding the signer's public key can prove a
// package intact. Memory use is independent of the package's size.
func Verify(r io.Reader, signer ed25519.PublicKey) (*Package, error) {
	h, head, err := readHeader(r)
	if err != nil {
		return nil, err
	}
	payload := encryptedSize(h.payloadSize)
	hash := sha256.New()
	if n, err := io.CopyN(hash, r, payload); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%w: payload has %d of %d bytes", ErrTruncated, n, payload)
		}
		return nil, fmt.Errorf("seal: read payload: %w", err)
	}
	trailer := make([]byte, trailerSize)
	if _, err := io.ReadFull(r, trailer); err != nil {
		return nil, shortRead(err, "trailer")
	}
	if n, _ := r.Read(make([]byte, 1)); n != 0 {
		return nil, ErrTrailingData
	}
	digest, sig := trailer[:32], trailer[32:]
	if !bytes.Equal(digest, hash.Sum(nil)) {
		return nil, fmt.Errorf("%w: payload SHA-256 differs from the signed one", ErrBadSignature)
	}
	if !ed25519.Verify(h.signer, signedMessage(head, digest), sig) {
		return nil, ErrBadSignature
	}
	if signer != nil && !bytes.Equal(signer, h.signer) {
		return nil, fmt.Errorf("%w (signed by %s, expected %s)", ErrSignerMismatch, KeyID(h.signer), KeyID(signer))
	}
	// Only now, with the signature checked, is the manifest parsed.
	m, err := parseManifest(h.manifest)
	if err != nil {
		return nil, err
	}
	if m.SignerKeyID != KeyID(h.signer) || m.DeliveredSize != h.payloadSize {
		return nil, malformed("manifest signer_key_id or delivered_size disagrees with the header")
	}
	return &Package{
		Manifest: m, Signer: h.signer, PayloadSize: h.payloadSize,
		PayloadOffset: int64(len(head)), Size: int64(len(head)) + payload + trailerSize, h: h,
	}, nil
}

// Key opens a verified package's payload. It holds the derived payload key
// only, never the file key.
type Key struct{ s *stream }

// UnwrapLicense opens the package's HPKE wrap for the outer's license key.
// It fails with ErrWrongRecipient when the package was sealed to other keys.
func (p *Package) UnwrapLicense(priv hpke.PrivateKey) (*Key, error) {
	fileKey, err := p.h.unwrapLicense(priv)
	if err != nil {
		return nil, err
	}
	return p.key(fileKey)
}

// UnwrapPassword opens the package's password wrap (offline hand-over).
// It fails with ErrWrongPassword or ErrNoPasswordWrap.
func (p *Package) UnwrapPassword(password []byte) (*Key, error) {
	fileKey, err := p.h.unwrapPassword(password)
	if err != nil {
		return nil, err
	}
	return p.key(fileKey)
}

func (p *Package) key(fileKey []byte) (*Key, error) {
	defer clear(fileKey)
	s, err := newStream(fileKey, p.h.nonce[:], p.PayloadSize)
	if err != nil {
		return nil, err
	}
	return &Key{s: s}, nil
}

// Decrypt reads the encrypted payload from r, positioned at PayloadOffset,
// and writes the video to w, authenticating every chunk and, at the end,
// comparing the video's SHA-256 with the manifest's. On error, what was
// written to w must be discarded.
func (p *Package) Decrypt(w io.Writer, r io.Reader, k *Key) error {
	hash := sha256.New()
	sealed := make([]byte, ChunkSize+tagSize)
	for i := range k.s.chunks {
		n := chunkLen(p.PayloadSize, i) + tagSize
		if _, err := io.ReadFull(r, sealed[:n]); err != nil {
			return &ChunkError{Index: i, Err: shortRead(err, "payload")}
		}
		out, err := k.s.open(sealed[:0], sealed[:n], i) // in place
		if err != nil {
			return err
		}
		hash.Write(out)
		if _, err := w.Write(out); err != nil {
			return fmt.Errorf("seal: write video: %w", err)
		}
	}
	if got := hex.EncodeToString(hash.Sum(nil)); got != p.Manifest.DeliveredSHA256 {
		return fmt.Errorf("%w (got %s)", ErrDigestMismatch, got)
	}
	return nil
}

// ReaderAt gives random access to a package's video: each read decrypts
// and authenticates only the chunks it touches (seeking, HTTP Range).
type ReaderAt struct {
	p  *Package
	ra io.ReaderAt
	k  *Key
}

// NewReaderAt reads the package from ra (the whole package file).
func (p *Package) NewReaderAt(ra io.ReaderAt, k *Key) *ReaderAt { return &ReaderAt{p: p, ra: ra, k: k} }

// Size is the video's size.
func (r *ReaderAt) Size() int64 { return r.p.PayloadSize }

// chunkBufs recycles chunk buffers across ReadAt calls, which io.ReaderAt
// allows to run in parallel.
var chunkBufs = sync.Pool{New: func() any { b := make([]byte, ChunkSize+tagSize); return &b }}

// ReadAt implements io.ReaderAt over the plaintext.
func (r *ReaderAt) ReadAt(b []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("seal: negative offset")
	}
	bufp := chunkBufs.Get().(*[]byte)
	defer chunkBufs.Put(bufp)
	sealed := *bufp
	n := 0
	for n < len(b) && off < r.p.PayloadSize {
		i := off / ChunkSize
		clen := chunkLen(r.p.PayloadSize, i)
		if _, err := r.ra.ReadAt(sealed[:clen+tagSize], r.p.PayloadOffset+i*(ChunkSize+tagSize)); err != nil {
			return n, &ChunkError{Index: i, Err: shortRead(err, "payload")}
		}
		out, err := r.k.s.open(sealed[:0], sealed[:clen+tagSize], i) // in place
		if err != nil {
			return n, err
		}
		c := copy(b[n:], out[off-i*ChunkSize:])
		n += c
		off += int64(c)
	}
	if n < len(b) {
		return n, io.EOF
	}
	return n, nil
}
