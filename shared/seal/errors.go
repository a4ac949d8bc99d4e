package seal

import (
	"errors"
	"fmt"
)

// Errors a reader returns. Each names one way a package can be refused, so
// callers (and officers) are told what failed, not just that it did.
var (
	ErrNotPackage         = errors.New("seal: not a Sealgate package (bad magic)")
	ErrUnsupportedVersion = errors.New("seal: unsupported package version")
	ErrMalformed          = errors.New("seal: malformed package")
	ErrTruncated          = errors.New("seal: package is truncated")
	ErrTrailingData       = errors.New("seal: unexpected data after the package")
	ErrBadSignature       = errors.New("seal: signature does not verify (package altered or not signed by its signer)")
	ErrSignerMismatch     = errors.New("seal: package is signed by a different key than the expected signer")
	ErrTampered           = errors.New("seal: payload chunk failed authentication (tampered, reordered or spliced)")
	ErrWrongRecipient     = errors.New("seal: package is not sealed to this license key")
	ErrNoPasswordWrap     = errors.New("seal: package has no password wrap (it was sealed for online delivery only)")
	ErrWrongPassword      = errors.New("seal: wrong password")
	ErrDigestMismatch     = errors.New("seal: decrypted video does not match the SHA-256 in the manifest")
	ErrInputChanged       = errors.New("seal: input size changed while sealing")
)

// ChunkError locates a payload failure at one chunk.
type ChunkError struct {
	Index int64
	Err   error
}

func (e *ChunkError) Error() string { return fmt.Sprintf("chunk %d: %v", e.Index, e.Err) }
func (e *ChunkError) Unwrap() error { return e.Err }

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}
