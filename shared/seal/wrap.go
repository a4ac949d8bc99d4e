package seal

import (
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
	hw := hpkeWrap{kem: pub.KEM().ID(), kdf: kdf.ID(), aead: aead.ID(), sealed: sealed}
	hw.id = RecipientID(pub)
	return wrap{typ: wrapHPKE, body: hw.encode()}, nil
}

// hpkeWrap is the body of a license key wrap: the recipient's id, the HPKE
// suite, then the encapsulated key and the sealed file key.
type hpkeWrap struct {
	id             [32]byte
	kem, kdf, aead uint16
	sealed         []byte
}

func (w hpkeWrap) encode() []byte {
	body := append([]byte{}, w.id[:]...)
	body = binary.BigEndian.AppendUint16(body, w.kem)
	body = binary.BigEndian.AppendUint16(body, w.kdf)
	body = binary.BigEndian.AppendUint16(body, w.aead)
	return append(body, w.sealed...)
}

func parseHPKEWrap(body []byte) (hpkeWrap, error) {
	p := parser{b: body}
	var w hpkeWrap
	copy(w.id[:], p.bytes(len(w.id)))
	w.kem, w.kdf, w.aead = p.u16(), p.u16(), p.u16()
	if p.err != nil {
		return hpkeWrap{}, p.err
	}
	w.sealed = p.b
	return w, nil
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
	// The key is unique to this salt, so the all-zero nonce is used once.
	pw := passwordWrap{salt: salt, params: params, sealed: aead.Seal(nil, make([]byte, 12), fileKey, []byte(passwordAAD))}
	return wrap{typ: wrapPassword, body: pw.encode()}, nil
}

// passwordWrap is the body of a password wrap: the salt and Argon2id cost,
// then the sealed file key.
type passwordWrap struct {
	salt   []byte
	params Argon2Params
	sealed []byte
}

func (w passwordWrap) encode() []byte {
	body := append([]byte{}, w.salt...)
	body = binary.BigEndian.AppendUint32(body, w.params.Time)
	body = binary.BigEndian.AppendUint32(body, w.params.MemoryKiB)
	body = append(body, w.params.Threads)
	return append(body, w.sealed...)
}

// parsePasswordWrap refuses parameters out of bounds and a sealed key of
// the wrong size before the caller spends Argon2id's time and memory on it.
func parsePasswordWrap(body []byte) (passwordWrap, error) {
	p := parser{b: body}
	w := passwordWrap{salt: p.bytes(saltSize)}
	w.params = Argon2Params{Time: p.u32(), MemoryKiB: p.u32(), Threads: p.u8()}
	if p.err != nil {
		return passwordWrap{}, p.err
	}
	if err := w.params.check(); err != nil {
		return passwordWrap{}, err
	}
	if len(p.b) != fileKeySize+tagSize {
		return passwordWrap{}, malformed("password wrap holds %d sealed bytes, not %d", len(p.b), fileKeySize+tagSize)
	}
	w.sealed = p.b
	return w, nil
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
		hw, err := parseHPKEWrap(w.body)
		if err != nil {
			return nil, err
		}
		sealedTo = append(sealedTo, "sha256:"+hex.EncodeToString(hw.id[:]))
		if hw.id != want {
			continue
		}
		if hw.kem != priv.KEM().ID() {
			return nil, malformed("hpke wrap KEM %#04x does not match the license key", hw.kem)
		}
		kdf, err1 := hpke.NewKDF(hw.kdf)
		aead, err2 := hpke.NewAEAD(hw.aead)
		if err := errors.Join(err1, err2); err != nil {
			return nil, malformed("hpke wrap: %v", err)
		}
		key, err := hpke.Open(priv, kdf, aead, []byte(hpkeInfo), hw.sealed)
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
		pw, err := parsePasswordWrap(w.body)
		if err != nil {
			return nil, err
		}
		aead, err := passwordAEAD(password, pw.salt, pw.params)
		if err != nil {
			return nil, err
		}
		key, err := aead.Open(nil, make([]byte, 12), pw.sealed, []byte(passwordAAD))
		if err != nil || len(key) != fileKeySize {
			return nil, ErrWrongPassword
		}
		return key, nil
	}
	return nil, ErrNoPasswordWrap
}
