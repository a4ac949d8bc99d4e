package license

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
)

// InfoPrefix starts the HKDF info of every license; the package id
// follows, so a wrapped key opens only for the package it was asked for.
const InfoPrefix = "sealgate license v1 "

// wrap seals payloadKey to the page's ECDH P-256 key client, in a form
// WebCrypto unwraps straight into a non-extractable AES-GCM key: an
// ephemeral P-256 key of ours, ECDH, HKDF-SHA256 (random salt, info naming
// the package) to an AES-256-GCM key-wrapping key, and AES-256-GCM of the
// 32-byte key with a random IV and the info as additional data. The
// shared secret and the wrapping key are cleared before it returns (the
// AES key schedule inside crypto/aes is not reachable to clear).
func wrap(payloadKey []byte, client *ecdh.PublicKey, packageID string) (*License, error) {
	eph, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("license: ephemeral key: %w", err)
	}
	secret, err := eph.ECDH(client)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadKey, err)
	}
	defer clear(secret)
	lic := &License{ServerKey: eph.PublicKey().Bytes(), Salt: make([]byte, 32), IV: make([]byte, 12), Info: InfoPrefix + packageID}
	rand.Read(lic.Salt)
	rand.Read(lic.IV)
	kek, err := hkdf.Key(sha256.New, secret, lic.Salt, lic.Info, 32)
	if err != nil {
		return nil, fmt.Errorf("license: derive wrapping key: %w", err)
	}
	defer clear(kek)
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	lic.WrappedKey = gcm.Seal(nil, lic.IV, payloadKey, []byte(lic.Info))
	return lic, nil
}
