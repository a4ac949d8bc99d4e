package seal

import (
	"bytes"
	"crypto/hpke"
	"crypto/rand"
	"errors"
	"testing"
)

// FuzzLicenseWrap fuzzes an HPKE wrap's body, seeded with wraps the sealer
// made. The parser must refuse with ErrMalformed or give back fields that
// re-encode to the same body; unwrapLicense, given the real license key,
// must refuse with one of the package's errors unless the body is the
// sealer's own wrap byte for byte, and then return the file key.
func FuzzLicenseWrap(f *testing.F) {
	kem := hpke.MLKEM768X25519()
	priv, err := kem.GenerateKey()
	if err != nil {
		f.Fatal(err)
	}
	other, _ := kem.GenerateKey()
	fileKey := make([]byte, fileKeySize)
	rand.Read(fileKey)
	mine, err := wrapForLicense(priv.PublicKey(), fileKey)
	if err != nil {
		f.Fatal(err)
	}
	theirs, err := wrapForLicense(other.PublicKey(), fileKey)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(mine.body)
	f.Add(theirs.body)
	f.Add(mine.body[:38])
	f.Add(mine.body[:37])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, body []byte) {
		hw, perr := parseHPKEWrap(body)
		if perr != nil {
			if !errors.Is(perr, ErrMalformed) {
				t.Fatalf("parse error %v is not ErrMalformed", perr)
			}
		} else if !bytes.Equal(hw.encode(), body) {
			t.Fatalf("wrap %x re-encodes as %x", body, hw.encode())
		}
		h := &header{wraps: []wrap{{typ: wrapHPKE, body: body}}}
		key, err := h.unwrapLicense(priv)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrTampered) && !errors.Is(err, ErrWrongRecipient) {
				t.Fatalf("unwrap error %v is none of the package's", err)
			}
			return
		}
		if perr != nil || !bytes.Equal(body, mine.body) || !bytes.Equal(key, fileKey) {
			t.Fatalf("a wrap that is not the sealer's opened: %x", body)
		}
	})
}

// FuzzPasswordWrap fuzzes a password wrap's body, seeded with the sealer's
// wraps. What the parser accepts is within the Argon2id bounds, holds a
// salt and a sealed key of their sizes, and re-encodes to the same body;
// what it refuses is ErrMalformed, so Argon2id never runs on it.
// (unwrapPassword itself is not fuzzed: every run would cost ≥ 8 MiB of
// Argon2id; its parse step is this one.)
func FuzzPasswordWrap(f *testing.F) {
	fileKey := make([]byte, fileKeySize)
	rand.Read(fileKey)
	// One wrap really sealed (at the cheapest cost: Argon2id runs once per
	// seed run); the real cost and the bounds are encoded, not run.
	w, err := wrapForPassword([]byte("hunter2 but longer"), Argon2Params{Time: 1, MemoryKiB: 8 << 10, Threads: 1}, fileKey)
	if err != nil {
		f.Fatal(err)
	}
	if _, err := parsePasswordWrap(w.body); err != nil {
		f.Fatalf("the sealer's wrap is refused: %v", err)
	}
	f.Add(w.body)
	f.Add(w.body[:len(w.body)-1])
	for _, params := range []Argon2Params{DefaultArgon2, {Time: 16, MemoryKiB: 1 << 20, Threads: 64}, {Time: 1, MemoryKiB: 1<<20 + 1, Threads: 1}, {Time: 0, MemoryKiB: 8 << 10, Threads: 1}} {
		f.Add(passwordWrap{salt: w.body[:saltSize], params: params, sealed: w.body[saltSize+9:]}.encode())
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		w, err := parsePasswordWrap(body)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v is not ErrMalformed", err)
			}
			return
		}
		if err := w.params.check(); err != nil || len(w.salt) != saltSize || len(w.sealed) != fileKeySize+tagSize {
			t.Fatalf("accepted %+v (%v)", w, err)
		}
		if !bytes.Equal(w.encode(), body) {
			t.Fatalf("wrap %x re-encodes as %x", body, w.encode())
		}
	})
}
