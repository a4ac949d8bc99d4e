package seal

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hpke"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

const (
	fileKeySize = 32
	hpkeInfo    = "sealgate package v1 hpke wrap"
	passwordAAD = "sealgate package v1 password wrap"
	saltSize    = 16
)

// Argon2Params are the cost of a password wrap; they are stored in the wrap
// so a reader needs no configuration.
type Argon2Params struct {
	Time      uint32
	MemoryKiB uint32
	Threads   uint8
}

// DefaultArgon2 makes a guess cost about half a second and 256 MiB: a
// package on a lost USB stick must resist offline guessing for years.
var DefaultArgon2 = Argon2Params{Time: 3, MemoryKiB: 256 << 10, Threads: 4}

// Bounds a reader enforces on a package's parameters, so a hostile package
// cannot make the opener use unbounded memory or time.
func (a Argon2Params) check() error {
	if a.Time < 1 || a.Time > 16 || a.MemoryKiB < 8<<10 || a.MemoryKiB > 1<<20 || a.Threads < 1 || a.Threads > 64 {
		return malformed("argon2id parameters t=%d m=%dKiB p=%d out of bounds", a.Time, a.MemoryKiB, a.Threads)
	}
	return nil
}

// RecipientID identifies a license key: SHA-256 of its KEM id (big-endian)
// and serialised public key. It equals keys.LicenseFingerprint.
func RecipientID(pub hpke.PublicKey) [32]byte {
	return sha256.Sum256(append(binary.BigEndian.AppendUint16(nil, pub.KEM().ID()), pub.Bytes()...))
}

func wrapForLicense(pub hpke.PublicKey, fileKey []byte) (wrap, error) {
	kdf, aead := hpke.HKDFSHA256(), hpke.AES256GCM()
	sealed, err := hpke.Seal(pub, kdf, aead, []byte(hpkeInfo), fileKey)
	if err != nil {
		return wrap{}, fmt.Errorf("seal: hpke wrap: %w", err)
	}
	id := RecipientID(pub)
	body := append([]byte{}, id[:]...)
	body = binary.BigEndian.AppendUint16(body, pub.KEM().ID())
	body = binary.BigEndian.AppendUint16(body, kdf.ID())
	body = binary.BigEndian.AppendUint16(body, aead.ID())
	return wrap{typ: wrapHPKE, body: append(body, sealed...)}, nil
}

func wrapForPassword(password []byte, params Argon2Params, fileKey []byte) (wrap, error) {
	if err := params.check(); err != nil {
		return wrap{}, err
	}
	salt := make([]byte, saltSize)
	rand.Read(salt)
	aead, err := passwordAEAD(password, salt, params)
	if err != nil {
		return wrap{}, err
	}
	body := append([]byte{}, salt...)
	body = binary.BigEndian.AppendUint32(body, params.Time)
	body = binary.BigEndian.AppendUint32(body, params.MemoryKiB)
	body = append(body, params.Threads)
	// The key is unique to this salt, so the all-zero nonce is used once.
	return wrap{typ: wrapPassword, body: aead.Seal(body, make([]byte, 12), fileKey, []byte(passwordAAD))}, nil
}

func passwordAEAD(password, salt []byte, p Argon2Params) (cipher.AEAD, error) {
	key := argon2.IDKey(password, salt, p.Time, p.MemoryKiB, p.Threads, 32)
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// unwrapLicense finds the wrap for priv and opens it.
func (h *header) unwrapLicense(priv hpke.PrivateKey) ([]byte, error) {
	want := RecipientID(priv.PublicKey())
	var sealedTo []string
	for _, w := range h.wraps {
		if w.typ != wrapHPKE {
			continue
		}
		p := parser{b: w.body}
		id := p.bytes(32)
		kemID, kdfID, aeadID := p.u16(), p.u16(), p.u16()
		if p.err != nil {
			return nil, p.err
		}
		sealedTo = append(sealedTo, "sha256:"+hex.EncodeToString(id))
		if !bytes.Equal(id, want[:]) {
			continue
		}
		if kemID != priv.KEM().ID() {
			return nil, malformed("hpke wrap KEM %#04x does not match the license key", kemID)
		}
		kdf, err1 := hpke.NewKDF(kdfID)
		aead, err2 := hpke.NewAEAD(aeadID)
		if err := errors.Join(err1, err2); err != nil {
			return nil, malformed("hpke wrap: %v", err)
		}
		key, err := hpke.Open(priv, kdf, aead, []byte(hpkeInfo), p.b)
		if err != nil || len(key) != fileKeySize {
			return nil, fmt.Errorf("%w: the wrap for this key does not open", ErrTampered)
		}
		return key, nil
	}
	if len(sealedTo) == 0 {
		return nil, fmt.Errorf("%w: it has no license key wraps", ErrWrongRecipient)
	}
	return nil, fmt.Errorf("%w (sealed to %s; this key is sha256:%x)", ErrWrongRecipient, strings.Join(sealedTo, ", "), want)
}

// unwrapPassword opens the password wrap.
func (h *header) unwrapPassword(password []byte) ([]byte, error) {
	for _, w := range h.wraps {
		if w.typ != wrapPassword {
			continue
		}
		p := parser{b: w.body}
		salt := p.bytes(saltSize)
		params := Argon2Params{Time: p.u32(), MemoryKiB: p.u32(), Threads: p.u8()}
		if p.err != nil {
			return nil, p.err
		}
		if err := params.check(); err != nil {
			return nil, err
		}
		aead, err := passwordAEAD(password, salt, params)
		if err != nil {
			return nil, err
		}
		key, err := aead.Open(nil, make([]byte, 12), p.b, []byte(passwordAAD))
		if err != nil || len(key) != fileKeySize {
			return nil, ErrWrongPassword
		}
		return key, nil
	}
	return nil, ErrNoPasswordWrap
}
