// Package requestertest gives tests a personal-data cipher under a fresh
// random key, as pii.key would hold.
package requestertest

import (
	"crypto/rand"
	"testing"

	"sealgate/shared/account"
)

// PII is a cipher under a new 64-byte key.
func PII(t testing.TB) *account.PII {
	t.Helper()
	key := make([]byte, 64)
	rand.Read(key)
	p, err := account.NewPII(key)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
