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
	"strconv"
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
	return phc{memory: c.MemoryKiB, time: c.Time, threads: argonThreads, salt: salt, key: key}.String(), nil
}

// Verify checks password against a hash made by Hash, in constant time.
// It returns ErrMismatch for a wrong password, ErrBadHash for a hash it
// does not accept.
func (h *Hasher) Verify(ctx context.Context, encoded, password string) error {
	ph, err := parsePHC(encoded)
	if err != nil {
		return err
	}
	if err := h.acquire(ctx); err != nil {
		return err
	}
	defer func() { <-h.sem }()
	got := argon2.IDKey([]byte(password), ph.salt, ph.time, ph.memory, ph.threads, uint32(len(ph.key)))
	if subtle.ConstantTimeCompare(got, ph.key) != 1 {
		return ErrMismatch
	}
	return nil
}

// ErrBadHash reports a stored password hash Verify does not accept.
var ErrBadHash = errors.New("account: unsupported or malformed password hash")

// Bounds on a stored hash's parameters: a hash is read from the database,
// and one written there by someone else must not make a login cost more
// than the semaphore budgets (argonMemory each) or panic in argon2.
const (
	maxArgonTime    = 10
	maxArgonThreads = 16
	minSaltLen      = 8
	maxSaltLen      = 64
	minKeyLen       = 16
	maxKeyLen       = 64
)

// phc is a parsed $argon2id$v=19$m=…,t=…,p=…$salt$hash string.
type phc struct {
	memory, time uint32
	threads      uint8
	salt, key    []byte
}

func (p phc) String() string {
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.memory, p.time, p.threads, b64.EncodeToString(p.salt), b64.EncodeToString(p.key))
}

// parsePHC reads a hash strictly: only the canonical form Hash writes
// (plain decimals, unpadded canonical base64), with every number and
// length bounded.
func parsePHC(encoded string) (phc, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return phc{}, fmt.Errorf("%w: not argon2id", ErrBadHash)
	}
	if parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return phc{}, fmt.Errorf("%w: argon2 version %q", ErrBadHash, parts[2])
	}
	var m, t, p uint64
	params := strings.Split(parts[3], ",")
	if len(params) != 3 || !decimal(params[0], "m=", &m) || !decimal(params[1], "t=", &t) || !decimal(params[2], "p=", &p) ||
		t < 1 || t > maxArgonTime || p < 1 || p > maxArgonThreads || m < 8*p || m > argonMemory {
		return phc{}, fmt.Errorf("%w: argon2 parameters %q", ErrBadHash, parts[3])
	}
	b64 := base64.RawStdEncoding.Strict()
	salt, err1 := b64.DecodeString(parts[4])
	key, err2 := b64.DecodeString(parts[5])
	// The decoder skips newlines; re-encoding refuses them and any other
	// second spelling of the same bytes.
	if err1 != nil || err2 != nil || b64.EncodeToString(salt) != parts[4] || b64.EncodeToString(key) != parts[5] ||
		len(salt) < minSaltLen || len(salt) > maxSaltLen || len(key) < minKeyLen || len(key) > maxKeyLen {
		return phc{}, fmt.Errorf("%w: salt or hash", ErrBadHash)
	}
	return phc{memory: uint32(m), time: uint32(t), threads: uint8(p), salt: salt, key: key}, nil
}

// decimal parses key followed by a decimal of at most 7 digits without
// sign or leading zero, as Hash writes it, into v.
func decimal(s, key string, v *uint64) bool {
	d, ok := strings.CutPrefix(s, key)
	if !ok || len(d) == 0 || len(d) > 7 || (d[0] == '0' && len(d) > 1) {
		return false
	}
	n, err := strconv.ParseUint(d, 10, 32)
	*v = n
	return err == nil
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
