package account

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"strings"
	"unicode"
)

// PII encrypts personal data (names, phone numbers, affiliations) for the
// database with AES-256-GCM, and computes keyed blind indexes so a value
// can be found by exact match without being stored in clear.
type PII struct {
	aead  cipher.AEAD
	index []byte
}

// NewPII takes the 64-byte pii.key: encryption key, then index key.
func NewPII(key []byte) (*PII, error) {
	if len(key) != 64 {
		return nil, errors.New("account: pii key must be 64 bytes")
	}
	block, err := aes.NewCipher(key[:32])
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &PII{aead: aead, index: key[32:]}, nil
}

// Seal encrypts value for column of user's row; the AAD binds it there, so
// a ciphertext copied to another row or column fails to open. Empty stays nil.
func (p *PII) Seal(column, username, value string) []byte {
	if value == "" {
		return nil
	}
	nonce := make([]byte, p.aead.NonceSize())
	rand.Read(nonce)
	return p.aead.Seal(nonce, nonce, []byte(value), []byte(column+"\x00"+username))
}

// Open decrypts what Seal made.
func (p *PII) Open(column, username string, sealed []byte) (string, error) {
	if len(sealed) == 0 {
		return "", nil
	}
	n := p.aead.NonceSize()
	if len(sealed) < n {
		return "", errors.New("account: personal data ciphertext too short")
	}
	b, err := p.aead.Open(nil, sealed[:n], sealed[n:], []byte(column+"\x00"+username))
	if err != nil {
		return "", errors.New("account: personal data does not decrypt (altered or moved)")
	}
	return string(b), nil
}

// Index is the blind index of value for exact-match search: HMAC-SHA256
// over the normalised value (case and spacing folded; phone numbers to digits).
func (p *PII) Index(column, value string) []byte {
	v := strings.ToLower(strings.Join(strings.Fields(value), " "))
	if column == "phone" {
		v = strings.Map(func(r rune) rune {
			if unicode.IsDigit(r) {
				return r
			}
			return -1
		}, v)
	}
	if v == "" {
		return nil
	}
	h := hmac.New(sha256.New, p.index)
	h.Write([]byte(column + "\x00" + v))
	return h.Sum(nil)
}
