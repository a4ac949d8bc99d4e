package account_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"sealgate/shared/account"
)

func TestHashVerify(t *testing.T) {
	h := account.NewHasher(2, account.PasswordCost{})
	ctx := context.Background()
	enc, err := h.Hash(ctx, "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=65536,t=3,p=2$") {
		t.Fatalf("hash format %q", enc)
	}
	if err := h.Verify(ctx, enc, "correct horse battery staple"); err != nil {
		t.Fatalf("right password: %v", err)
	}
	if err := h.Verify(ctx, enc, "correct horse battery stapler"); !errors.Is(err, account.ErrMismatch) {
		t.Fatalf("wrong password: %v, want ErrMismatch", err)
	}
	enc2, _ := h.Hash(ctx, "correct horse battery staple")
	if enc == enc2 {
		t.Fatal("two hashes of one password are equal: salt not random")
	}
	for _, bad := range []string{"", "$argon2id$v=19$m=99999999,t=3,p=2$AAAA$AAAA", "$argon2i$v=19$m=65536,t=3,p=2$AAAA$AAAA", "$argon2id$v=19$m=65536,t=3,p=2$!!$AAAA",
		// Passed an older check: 0 threads (argon2 panics) and 2³²−1 passes.
		"$argon2id$v=19$m=65536,t=3,p=-256$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
		"$argon2id$v=19$m=65536,t=-1,p=2$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g"} {
		if err := h.Verify(ctx, bad, "x"); !errors.Is(err, account.ErrBadHash) {
			t.Errorf("Verify(%q) = %v, want a format error", bad, err)
		}
	}
}

func TestHasherBoundsConcurrency(t *testing.T) {
	h := account.NewHasher(1, account.PasswordCost{})
	enc, _ := h.Hash(context.Background(), "x")
	go h.Verify(context.Background(), enc, "x") // holds the only slot for ~160 ms
	time.Sleep(5 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if _, err := h.Hash(ctx, "y"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second hash while the slot is held: %v, want deadline exceeded", err)
	}
}

func TestGeneratePassword(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		pw := account.GeneratePassword()
		if len(pw) != 20 || seen[pw] {
			t.Fatalf("password %q: wrong length or repeated", pw)
		}
		seen[pw] = true
		for _, class := range []string{"ABCDEFGHJKLMNPQRSTUVWXYZ", "abcdefghijkmnopqrstuvwxyz", "23456789", "!#%+-=?@^_~"} {
			if !strings.ContainsAny(pw, class) {
				t.Fatalf("password %q lacks a character of %q", pw, class)
			}
		}
		if strings.ContainsAny(pw, "0O1lI") {
			t.Fatalf("password %q has a look-alike character", pw)
		}
	}
}

// BenchmarkHash is the cost of one login's password check.
func BenchmarkHash(b *testing.B) {
	h := account.NewHasher(1, account.PasswordCost{})
	for range b.N {
		h.Hash(context.Background(), "correct horse battery staple")
	}
}
