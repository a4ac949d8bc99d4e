package seal

import (
	"crypto/ed25519"
	"crypto/hpke"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"time"
)

// Options say who signs a package and who can open it.
type Options struct {
	Signer ed25519.PrivateKey
	// Recipients are the license keys (outer appliances) the file key is
	// wrapped to with HPKE.
	Recipients []hpke.PublicKey
	// Password, if set, adds an Argon2id wrap for offline hand-over.
	Password []byte
	Argon2   Argon2Params // zero: DefaultArgon2
}

// Seal reads exactly size bytes of video from r and writes the package to
// w in one pass, with memory independent of size. m.DeliveredSHA256 must be
// the SHA-256 of those bytes (the render pass computes it while writing the
// video); Seal fills in DeliveredSize, SignerKeyID and, if zero, CreatedAt.
// It returns the manifest as sealed.
func Seal(w io.Writer, r io.Reader, size int64, m Manifest, opts Options) (*Manifest, error) {
	if len(opts.Signer) != ed25519.PrivateKeySize {
		return nil, errors.New("seal: no signing key")
	}
	if len(opts.Recipients) == 0 && opts.Password == nil {
		return nil, errors.New("seal: no recipient and no password: nobody could open the package")
	}
	if size < 0 {
		return nil, fmt.Errorf("seal: negative size %d", size)
	}
	signer := opts.Signer.Public().(ed25519.PublicKey)
	m.DeliveredSize = size
	m.SignerKeyID = KeyID(signer)
	if m.CreatedAt.IsZero() {
		m.CreatedAt = time.Now()
	}
	m.normalize()
	if err := m.Validate(); err != nil {
		return nil, err
	}
	manifest, err := m.Encode()
	if err != nil {
		return nil, err
	}

	fileKey := make([]byte, fileKeySize)
	rand.Read(fileKey)
	defer clear(fileKey)
	h := &header{signer: signer, payloadSize: size, manifest: manifest}
	rand.Read(h.nonce[:])
	for _, pub := range opts.Recipients {
		wr, err := wrapForLicense(pub, fileKey)
		if err != nil {
			return nil, err
		}
		h.wraps = append(h.wraps, wr)
	}
	if opts.Password != nil {
		params := opts.Argon2
		if params == (Argon2Params{}) {
			params = DefaultArgon2
		}
		wr, err := wrapForPassword(opts.Password, params, fileKey)
		if err != nil {
			return nil, err
		}
		h.wraps = append(h.wraps, wr)
	}
	head, err := h.encode()
	if err != nil {
		return nil, err
	}
	s, err := newStream(fileKey, h.nonce[:], size)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(head); err != nil {
		return nil, fmt.Errorf("seal: write header: %w", err)
	}

	payloadHash := sha256.New()
	buf := make([]byte, ChunkSize+tagSize)
	for i := range s.chunks {
		n := chunkLen(size, i)
		if _, err := io.ReadFull(r, buf[:n]); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, fmt.Errorf("%w: input ended before %d bytes", ErrInputChanged, size)
			}
			return nil, fmt.Errorf("seal: read input: %w", err)
		}
		sealed := s.seal(buf[:0], buf[:n], i) // in place
		payloadHash.Write(sealed)
		if _, err := w.Write(sealed); err != nil {
			return nil, fmt.Errorf("seal: write payload: %w", err)
		}
	}
	if n, _ := r.Read(buf[:1]); n != 0 {
		return nil, fmt.Errorf("%w: input is longer than %d bytes", ErrInputChanged, size)
	}
	digest := payloadHash.Sum(nil)
	sig := ed25519.Sign(opts.Signer, signedMessage(head, digest))
	if _, err := w.Write(append(digest, sig...)); err != nil {
		return nil, fmt.Errorf("seal: write trailer: %w", err)
	}
	return &m, nil
}

// signatureContext separates package signatures from anything else the
// appliance key signs.
const signatureContext = "sealgate package v1 signature\x00"

// signedMessage is what the signature covers: the preamble and header
// (manifest and key wraps included) and the SHA-256 of the encrypted payload.
func signedMessage(head, payloadDigest []byte) []byte {
	msg := make([]byte, 0, len(signatureContext)+len(head)+len(payloadDigest))
	msg = append(msg, signatureContext...)
	msg = append(msg, head...)
	return append(msg, payloadDigest...)
}

// KeyID is the fingerprint of a signing key as manifests name it.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return fmt.Sprintf("sha256:%x", sum)
}
