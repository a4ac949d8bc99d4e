package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
)

const payloadInfo = "sealgate package v1 payload"

// stream is the payload's STREAM construction (Hoang, Reyhanitabar,
// Rogaway, Vizár 2015) over AES-256-GCM: chunk i is sealed with the nonce
// (i as 11 bytes big-endian, then 1 for the last chunk, else 0). Reordered,
// dropped, duplicated or spliced chunks fail to open, and every chunk opens
// on its own, which gives random access.
type stream struct {
	aead   cipher.AEAD
	chunks int64
}

// newStream derives the payload key from the file key and the header's
// nonce with HKDF-SHA256, so a file key is never used on data directly.
func newStream(fileKey, nonce []byte, size int64) (*stream, error) {
	key, err := payloadKey(fileKey, nonce)
	if err != nil {
		return nil, err
	}
	defer clear(key)
	return keyedStream(key, size)
}

// keyedStream is the stream of a payload key already derived.
func keyedStream(key []byte, size int64) (*stream, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &stream{aead: aead, chunks: chunks(size)}, nil
}

// payloadKey is HKDF-SHA256(file key, payload nonce) (docs/package-format.md §6).
func payloadKey(fileKey, nonce []byte) ([]byte, error) {
	key, err := hkdf.Key(sha256.New, fileKey, nonce, payloadInfo, 32)
	if err != nil {
		return nil, fmt.Errorf("seal: derive payload key: %w", err)
	}
	return key, nil
}

func (s *stream) nonce(i int64) []byte {
	var n [12]byte
	binary.BigEndian.PutUint64(n[3:11], uint64(i))
	if i == s.chunks-1 {
		n[11] = 1
	}
	return n[:]
}

func (s *stream) seal(dst, plain []byte, i int64) []byte {
	return s.aead.Seal(dst, s.nonce(i), plain, nil)
}

func (s *stream) open(dst, sealed []byte, i int64) ([]byte, error) {
	out, err := s.aead.Open(dst, s.nonce(i), sealed, nil)
	if err != nil {
		return nil, &ChunkError{Index: i, Err: ErrTampered}
	}
	return out, nil
}

// chunkLen is the plaintext length of chunk i of a size-byte payload.
func chunkLen(size, i int64) int64 {
	if i < size/ChunkSize {
		return ChunkSize
	}
	return size - i*ChunkSize
}
