// Package account holds the daemons' user accounts: password hashing with
// Argon2id, generated first passwords, and the users table's queries.
//
// Both daemons have a users table of the same shape; each allows its own
// roles (the table's CHECK constraint), so one [Store] serves both.
package account

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Argon2id parameters (RFC 9106's second recommended option, with 2 lanes
// for the appliance's 2 cores): about 160 ms and 64 MiB per hash here.
const (
	argonTime    = 3
	argonMemory  = 64 * 1024 // KiB
	argonThreads = 2
	argonKeyLen  = 32
	saltLen      = 16
)

// ErrMismatch reports a password that does not match the stored hash.
var ErrMismatch = errors.New("account: password does not match")

// Hasher hashes and verifies passwords, running at most N hashes at once so a
// flood of logins cannot exhaust memory (each hash takes 64 MiB).
type Hasher struct {
	sem  chan struct{}
	cost PasswordCost
}

// PasswordCost is the Argon2id cost of new hashes. The zero value is the
// appliance's (DefaultPasswordCost); a hash records its own cost, so
// hashes of any cost verify.
type PasswordCost struct {
	Time      uint32 // passes
	MemoryKiB uint32
}

// DefaultPasswordCost is what the daemons hash with.
var DefaultPasswordCost = PasswordCost{Time: argonTime, MemoryKiB: argonMemory}

// TestPasswordCost is Argon2id's minimum, for tests of everything around
// the hash (lockout, sessions, pages) that sign in hundreds of times; the
// hasher's own tests and the daemons use DefaultPasswordCost.
var TestPasswordCost = PasswordCost{Time: 1, MemoryKiB: 8 * 1024}

// NewHasher allows n concurrent hashes at cost (zero: DefaultPasswordCost).
func NewHasher(n int, cost PasswordCost) *Hasher {
	if cost == (PasswordCost{}) {
		cost = DefaultPasswordCost
	}
	return &Hasher{sem: make(chan struct{}, max(n, 1)), cost: cost}
}

func (h *Hasher) acquire(ctx context.Context) error {
	select {
	case h.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("account: wait to hash: %w", ctx.Err())
	}
}

// Hash returns the password's Argon2id hash in the PHC string format
// ($argon2id$v=19$m=…,t=…,p=…$salt$hash).
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer func() { <-h.sem }()
	salt := make([]byte, saltLen)
	rand.Read(salt)
	c := h.cost
	key := argon2.IDKey([]byte(password), salt, c.Time, c.MemoryKiB, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, c.MemoryKiB, c.Time, argonThreads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// Verify checks password against a hash made by Hash, in constant time.
// It returns ErrMismatch for a wrong password.
func (h *Hasher) Verify(ctx context.Context, encoded, password string) error {
	var (
		version, t, p int
		m             uint32
	)
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return errors.New("account: unsupported password hash")
	}
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return errors.New("account: unsupported argon2 version")
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m > 1<<20 || t > 16 || p > 16 || m == 0 || t == 0 || p == 0 {
		return errors.New("account: bad argon2 parameters")
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return errors.New("account: malformed password hash")
	}
	if err := h.acquire(ctx); err != nil {
		return err
	}
	defer func() { <-h.sem }()
	got := argon2.IDKey([]byte(password), salt, uint32(t), m, uint8(p), uint32(len(want)))
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return ErrMismatch
	}
	return nil
}

// Character classes of generated passwords; look-alikes (0 O 1 l I) are left
// out because these passwords are read off a screen and typed.
var classes = []string{"ABCDEFGHJKLMNPQRSTUVWXYZ", "abcdefghijkmnopqrstuvwxyz", "23456789", "!#%+-=?@^_~"}

// GeneratePassword returns a random 20-character password with every class
// present: about 120 bits, far past any policy, shown once to the admin.
func GeneratePassword() string {
	const n = 20
	all := strings.Join(classes, "")
	pw := make([]byte, 0, n)
	for _, c := range classes {
		pw = append(pw, pick(c))
	}
	for len(pw) < n {
		pw = append(pw, pick(all))
	}
	for i := len(pw) - 1; i > 0; i-- { // Fisher–Yates, so class letters are not all in front
		j := randInt(i + 1)
		pw[i], pw[j] = pw[j], pw[i]
	}
	return string(pw)
}

func pick(s string) byte { return s[randInt(len(s))] }

func randInt(n int) int {
	v, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
	if err != nil {
		panic(err) // crypto/rand never fails on Linux ≥ 3.17
	}
	return int(v.Int64())
}
