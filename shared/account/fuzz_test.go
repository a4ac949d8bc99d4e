package account

import (
	"context"
	"errors"
	"testing"
)

// FuzzParsePHC: a stored hash is read from the database, so its text may be
// anyone's. parsePHC must refuse with ErrBadHash or return parameters within
// the bounds (so Verify neither panics in argon2 nor costs more than a real
// hash), and what it accepts is the one canonical spelling: it re-encodes
// to the same string.
func FuzzParsePHC(f *testing.F) {
	real, err := NewHasher(1, PasswordCost{}).Hash(context.Background(), "correct horse battery staple")
	if err != nil {
		f.Fatal(err)
	}
	if _, err := parsePHC(real); err != nil {
		f.Fatalf("the hasher's own hash is refused: %v", err)
	}
	f.Add(real)
	const salt, key = "c2FsdHNhbHRzYWx0c2FsdA", "aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g"
	for _, params := range []string{
		"m=65536,t=3,p=-256", // passed the old check, then panicked in argon2 (0 threads)
		"m=65536,t=-1,p=2",   // passed the old check: 2³²−1 passes
		"m=1048576,t=16,p=16",
		"m=65536,t=3,p=2garbage",
		"m=065536,t=3,p=2",
		"m=+65536,t=3,p=2",
		"m=8,t=1,p=2",
	} {
		f.Add("$argon2id$v=19$" + params + "$" + salt + "$" + key)
	}
	f.Add("$argon2id$v=19$m=65536,t=3,p=2$" + salt + "\n$" + key)
	f.Add("$argon2i$v=19$m=65536,t=3,p=2$" + salt + "$" + key)
	f.Fuzz(func(t *testing.T, s string) {
		p, err := parsePHC(s)
		if err != nil {
			if !errors.Is(err, ErrBadHash) {
				t.Fatalf("error %v is not ErrBadHash", err)
			}
			return
		}
		if p.time < 1 || p.time > maxArgonTime || p.threads < 1 || p.threads > maxArgonThreads ||
			p.memory < 8*uint32(p.threads) || p.memory > argonMemory ||
			len(p.salt) < minSaltLen || len(p.salt) > maxSaltLen || len(p.key) < minKeyLen || len(p.key) > maxKeyLen {
			t.Fatalf("accepted out-of-bounds parameters %+v from %q", p, s)
		}
		if got := p.String(); got != s {
			t.Fatalf("accepted %q, which re-encodes as %q", s, got)
		}
	})
}
