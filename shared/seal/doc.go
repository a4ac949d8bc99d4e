// Package seal reads and writes sealed packages: the only thing that leaves
// the inner appliance (docs/architecture.md, "Trust rules").
// docs/package-format.md is the byte-level specification; this is the Go API.
//
// # Writing
//
// [Seal] streams a video into a package in one pass: a random file key
// encrypts the payload in 64 KiB chunks with AES-256-GCM in a STREAM
// construction, is wrapped with HPKE (MLKEM768X25519) to each outer's
// license key and optionally with an Argon2id password, and the inner
// appliance's Ed25519 key signs the header, manifest, wraps and the SHA-256
// of the encrypted payload.
//
// # Reading
//
// [Verify] checks a package without any decryption key: structure, signer,
// signature over every byte. Then [Package.UnwrapLicense] or
// [Package.UnwrapPassword] gives a [Key], and [Package.Decrypt] streams the
// video out while [Package.NewReaderAt] opens any range on its own.
//
// Every refusal is one of this package's sentinel errors ([ErrBadSignature],
// [ErrTruncated], [ErrTampered], [ErrWrongRecipient], [ErrWrongPassword], …),
// possibly wrapped in a [ChunkError] that names the chunk.
package seal
