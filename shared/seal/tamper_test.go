package seal_test

import (
	"bytes"
	"testing"

	"sealgate/shared/seal"
)

// TestEveryByteFlipIsRefused flips each byte of a small package in turn:
// every flip must be refused by Verify, which holds no decryption key.
func TestEveryByteFlipIsRefused(t *testing.T) {
	p := newParties(t)
	pkg := sealBytes(t, p, video(300), []byte("correct horse battery staple"))
	if _, err := seal.Verify(bytes.NewReader(pkg), pub(p)); err != nil {
		t.Fatal(err)
	}
	for i := range pkg {
		for _, mask := range []byte{0x01, 0x80, 0xff} {
			bad := bytes.Clone(pkg)
			bad[i] ^= mask
			if _, err := seal.Verify(bytes.NewReader(bad), nil); err == nil {
				t.Fatalf("flip %#02x of byte %d of %d accepted", mask, i, len(pkg))
			}
		}
	}
}
