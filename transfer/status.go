package transfer

import (
	"crypto/ed25519"
	"encoding/binary"
	"fmt"
	"io"
	"time"
)

// Sizes of the status query and its signed answer.
const (
	QuerySize       = 4 + 1 + 32
	StatusReplySize = 4 + 1 + 1 + 32 + 8 + 32 + ed25519.SignatureSize
)

const (
	queryType   = 2
	statusMagic = "SGD2"
	// statusCtx keeps a status reply's signature from ever verifying as a
	// transfer Reply (or the reverse): the outer signs both with one key.
	statusCtx = "sealgate transfer v2 destruction status\x00"
	// maxUnix bounds a destruction time: year 36812, far past any clock,
	// and well inside time.Time.
	maxUnix = 1 << 40
)

// Query asks the outer what became of a package the inner delivered.
type Query struct {
	SHA256 [32]byte
}

// Marshal encodes the query.
func (q Query) Marshal() []byte {
	b := append([]byte(offerMagic), queryType)
	return append(b, q.SHA256[:]...)
}

// Request is the first message of a stream the inner opened: exactly one
// of Offer and Query is set.
type Request struct {
	Offer *Offer
	Query *Query
}

// ReadRequest reads the first message of a stream: an Offer or a Query,
// told apart by the type byte after the magic, each read to its fixed size
// and nothing more.
func ReadRequest(r io.Reader) (Request, error) {
	b := make([]byte, OfferSize)
	if _, err := io.ReadFull(r, b[:5]); err != nil {
		return Request{}, fmt.Errorf("transfer: read request: %w", err)
	}
	if string(b[:4]) != offerMagic {
		return Request{}, fmt.Errorf("%w: bad request header", ErrProtocol)
	}
	switch b[4] {
	case offerType:
		if _, err := io.ReadFull(r, b[5:]); err != nil {
			return Request{}, fmt.Errorf("transfer: read offer: %w", err)
		}
		o, err := parseOffer(b)
		if err != nil {
			return Request{}, err
		}
		return Request{Offer: &o}, nil
	case queryType:
		var q Query
		if _, err := io.ReadFull(r, q.SHA256[:]); err != nil {
			return Request{}, fmt.Errorf("transfer: read query: %w", err)
		}
		return Request{Query: &q}, nil
	}
	return Request{}, fmt.Errorf("%w: request type %d", ErrProtocol, b[4])
}

// PackageState is what the outer says of a package.
type PackageState byte

// States of a package in a status reply.
const (
	StateHeld      PackageState = 1 // kept, inside its viewing window or not yet swept
	StateDestroyed PackageState = 2 // its file and key wraps are gone: the destruction receipt
	StateUnknown   PackageState = 3 // not on record, or not this inner's to ask about
)

var stateNames = map[PackageState]string{StateHeld: "held", StateDestroyed: "destroyed", StateUnknown: "unknown"}

func (s PackageState) String() string { return stateNames[s] }

// DestroyReason says why a package was destroyed.
type DestroyReason byte

// Reasons for a destruction; the text itself stays on the outer, and the
// reply carries its SHA-256.
const (
	DestroyNone    DestroyReason = 0 // not destroyed
	DestroyExpired DestroyReason = 1 // its viewing period ended
	DestroyRevoked DestroyReason = 2 // an outer admin revoked it
	DestroyOther   DestroyReason = 3
)

var destroyNames = map[DestroyReason]string{DestroyNone: "none", DestroyExpired: "viewing_period_ended", DestroyRevoked: "revoked", DestroyOther: "other"}

func (r DestroyReason) String() string { return destroyNames[r] }

// StatusReply is the outer's signed answer to a Query. For a destroyed
// package it is the destruction receipt the inner keeps.
type StatusReply struct {
	State        PackageState
	Reason       DestroyReason
	SHA256       [32]byte
	DestroyedAt  time.Time // whole seconds, UTC; zero unless destroyed
	ReasonSHA256 [32]byte  // of the outer's reason text; zero unless destroyed
}

func (r StatusReply) body() []byte {
	b := append([]byte(statusMagic), byte(r.State), byte(r.Reason))
	b = append(b, r.SHA256[:]...)
	var at uint64
	if !r.DestroyedAt.IsZero() {
		at = uint64(r.DestroyedAt.Unix())
	}
	b = binary.BigEndian.AppendUint64(b, at)
	return append(b, r.ReasonSHA256[:]...)
}

// Sign encodes the reply with the outer's signature.
func (r StatusReply) Sign(key ed25519.PrivateKey) []byte {
	b := r.body()
	return append(b, ed25519.Sign(key, append([]byte(statusCtx), b...))...)
}

// ParseStatusReply accepts exactly one well-formed status reply signed by
// key about the package want, and nothing else: a destroyed package has a
// reason and a time, a held or unknown one neither.
func ParseStatusReply(b []byte, key ed25519.PublicKey, want [32]byte) (StatusReply, error) {
	if len(b) != StatusReplySize || string(b[:4]) != statusMagic {
		return StatusReply{}, fmt.Errorf("%w: bad status reply header", ErrProtocol)
	}
	body, sig := b[:StatusReplySize-ed25519.SignatureSize], b[StatusReplySize-ed25519.SignatureSize:]
	if !ed25519.Verify(key, append([]byte(statusCtx), body...), sig) {
		return StatusReply{}, fmt.Errorf("%w: status reply signature does not verify", ErrProtocol)
	}
	r := StatusReply{State: PackageState(b[4]), Reason: DestroyReason(b[5])}
	copy(r.SHA256[:], b[6:38])
	at := binary.BigEndian.Uint64(b[38:46])
	copy(r.ReasonSHA256[:], b[46:78])
	destroyed := r.State == StateDestroyed
	switch {
	case r.State < StateHeld || r.State > StateUnknown:
		return StatusReply{}, fmt.Errorf("%w: status reply state %d", ErrProtocol, r.State)
	case r.Reason > DestroyOther || destroyed != (r.Reason != DestroyNone):
		return StatusReply{}, fmt.Errorf("%w: status reply reason %d with state %d", ErrProtocol, r.Reason, r.State)
	case destroyed != (at != 0), at > maxUnix:
		return StatusReply{}, fmt.Errorf("%w: status reply time %d with state %d", ErrProtocol, at, r.State)
	case !destroyed && r.ReasonSHA256 != [32]byte{}:
		return StatusReply{}, fmt.Errorf("%w: status reply names a reason but says %s", ErrProtocol, r.State)
	case r.SHA256 != want:
		return StatusReply{}, fmt.Errorf("%w: status reply about another package", ErrProtocol)
	}
	if destroyed {
		r.DestroyedAt = time.Unix(int64(at), 0).UTC()
	}
	return r, nil
}

// ReadStatusReply reads exactly one status reply from r and parses it,
// returning its bytes as the outer signed them too (the receipt to keep).
func ReadStatusReply(r io.Reader, key ed25519.PublicKey, want [32]byte) (StatusReply, []byte, error) {
	b := make([]byte, StatusReplySize)
	if _, err := io.ReadFull(r, b); err != nil {
		return StatusReply{}, nil, fmt.Errorf("transfer: read status reply: %w", err)
	}
	rep, err := ParseStatusReply(b, key, want)
	return rep, b, err
}

// VerifyDestruction checks a kept destruction receipt: a status reply
// signed by key saying that package want is destroyed.
func VerifyDestruction(b []byte, key ed25519.PublicKey, want [32]byte) (StatusReply, error) {
	r, err := ParseStatusReply(b, key, want)
	if err != nil {
		return StatusReply{}, err
	}
	if r.State != StateDestroyed {
		return StatusReply{}, fmt.Errorf("%w: status %s is not a destruction receipt", ErrProtocol, r.State)
	}
	return r, nil
}
