package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"io"
)

// ErrWrongPayloadKey: a payload key released for this package does not
// open its first chunk.
var ErrWrongPayloadKey = errors.New("seal: the released key does not open this package")

// KeyFromPayload makes the Key of a verified package from its 32-byte
// payload key itself (docs/package-format.md §6), as the outer's license
// service releases it to an officer's opener instead of the file key. The
// key is checked against chunk 0 read from ra, so a wrong one fails here,
// before anything is written. The caller clears payloadKey.
func (p *Package) KeyFromPayload(payloadKey []byte, ra io.ReaderAt) (*Key, error) {
	if len(payloadKey) != 32 {
		return nil, ErrWrongPayloadKey
	}
	block, err := aes.NewCipher(payloadKey)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	k := &Key{s: &stream{aead: aead, chunks: chunks(p.PayloadSize)}}
	first := make([]byte, chunkLen(p.PayloadSize, 0)+tagSize)
	if _, err := ra.ReadAt(first, p.PayloadOffset); err != nil {
		return nil, shortRead(err, "payload")
	}
	if _, err := k.s.open(first[:0], first, 0); err != nil {
		return nil, ErrWrongPayloadKey
	}
	return k, nil
}
