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
	StatusReplySize = statusV2Size + 8 + 4 + 4
	// statusV2Size is a status reply of protocol 2, without the use
	// counts: destruction receipts kept before protocol 3 are that size.
	statusV2Size = 4 + 1 + 1 + 32 + 8 + 32 + ed25519.SignatureSize
)

const (
	queryType     = 2
	statusMagic   = "SGD3"
	statusV2Magic = "SGD2"
	// statusCtx keeps a status reply's signature from ever verifying as a
	// transfer Reply (or the reverse): the outer signs both with one key.
	statusCtx   = "sealgate transfer v3 destruction status\x00"
	statusV2Ctx = "sealgate transfer v2 destruction status\x00"
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
// of Offer, Query and Anchor is set.
type Request struct {
	Offer  *Offer
	Query  *Query
	Anchor *HeadAnchor
}

// ReadRequest reads the first message of a stream: an Offer, a Query or
// an anchor, told apart by the type byte after the magic, each read to its
// fixed size and nothing more.
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
	case anchorType:
		b := make([]byte, headAnchorSize)
		if _, err := io.ReadFull(r, b); err != nil {
			return Request{}, fmt.Errorf("transfer: read anchor: %w", err)
		}
		a, err := parseHeadAnchor(b)
		if err != nil {
			return Request{}, err
		}
		if a.Seq == 0 {
			return Request{}, fmt.Errorf("%w: an empty anchor pushed", ErrProtocol)
		}
		return Request{Anchor: &a}, nil
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
	Use
}

// MaxUses bounds a download or play count in a status reply: far past
// any real clip's, so a reply claiming more is malformed.
const MaxUses = 1 << 24

// Use is what the addressed officers did with a package on the outer, for
// the inner's export ledger: when it was first downloaded or played, how
// many downloads began at its first byte, and how many plays the license
// service released. An unknown package has none.
type Use struct {
	FirstViewed time.Time // whole seconds, UTC; zero: never
	Downloads   uint32
	Plays       uint32
}

func unix(t time.Time) uint64 {
	if t.IsZero() {
		return 0
	}
	return uint64(t.Unix())
}

func (r StatusReply) body() []byte {
	b := append([]byte(statusMagic), byte(r.State), byte(r.Reason))
	b = append(b, r.SHA256[:]...)
	b = binary.BigEndian.AppendUint64(b, unix(r.DestroyedAt))
	b = append(b, r.ReasonSHA256[:]...)
	b = binary.BigEndian.AppendUint64(b, unix(r.FirstViewed))
	b = binary.BigEndian.AppendUint32(b, r.Downloads)
	return binary.BigEndian.AppendUint32(b, r.Plays)
}

// Sign encodes the reply with the outer's signature.
func (r StatusReply) Sign(key ed25519.PrivateKey) []byte {
	b := r.body()
	return append(b, ed25519.Sign(key, append([]byte(statusCtx), b...))...)
}

// ParseStatusReply accepts exactly one well-formed status reply signed by
// key about the package want, and nothing else: a destroyed package has a
// reason and a time, a held or unknown one neither; an unknown one has no
// use, and no package is viewed after it was destroyed.
func ParseStatusReply(b []byte, key ed25519.PublicKey, want [32]byte) (StatusReply, error) {
	if len(b) != StatusReplySize || string(b[:4]) != statusMagic {
		return StatusReply{}, fmt.Errorf("%w: bad status reply header", ErrProtocol)
	}
	return parseStatus(b, key, want, statusCtx)
}

func parseStatus(b []byte, key ed25519.PublicKey, want [32]byte, ctx string) (StatusReply, error) {
	n := len(b) - ed25519.SignatureSize
	if !ed25519.Verify(key, append([]byte(ctx), b[:n]...), b[n:]) {
		return StatusReply{}, fmt.Errorf("%w: status reply signature does not verify", ErrProtocol)
	}
	r := StatusReply{State: PackageState(b[4]), Reason: DestroyReason(b[5])}
	copy(r.SHA256[:], b[6:38])
	at := binary.BigEndian.Uint64(b[38:46])
	copy(r.ReasonSHA256[:], b[46:78])
	var viewed uint64
	if len(b) == StatusReplySize {
		viewed = binary.BigEndian.Uint64(b[78:86])
		r.Downloads, r.Plays = binary.BigEndian.Uint32(b[86:90]), binary.BigEndian.Uint32(b[90:94])
	}
	destroyed := r.State == StateDestroyed
	used := viewed != 0 || r.Downloads != 0 || r.Plays != 0
	switch {
	case r.State < StateHeld || r.State > StateUnknown:
		return StatusReply{}, fmt.Errorf("%w: status reply state %d", ErrProtocol, r.State)
	case r.Reason > DestroyOther || destroyed != (r.Reason != DestroyNone):
		return StatusReply{}, fmt.Errorf("%w: status reply reason %d with state %d", ErrProtocol, r.Reason, r.State)
	case destroyed != (at != 0), at > maxUnix:
		return StatusReply{}, fmt.Errorf("%w: status reply time %d with state %d", ErrProtocol, at, r.State)
	case !destroyed && r.ReasonSHA256 != [32]byte{}:
		return StatusReply{}, fmt.Errorf("%w: status reply names a reason but says %s", ErrProtocol, r.State)
	case r.State == StateUnknown && used, viewed > maxUnix, r.Downloads > MaxUses, r.Plays > MaxUses,
		viewed == 0 && (r.Downloads != 0 || r.Plays != 0), destroyed && viewed > at:
		return StatusReply{}, fmt.Errorf("%w: status reply use (viewed %d, %d downloads, %d plays) with state %s",
			ErrProtocol, viewed, r.Downloads, r.Plays, r.State)
	case r.SHA256 != want:
		return StatusReply{}, fmt.Errorf("%w: status reply about another package", ErrProtocol)
	}
	if destroyed {
		r.DestroyedAt = time.Unix(int64(at), 0).UTC()
	}
	if viewed != 0 {
		r.FirstViewed = time.Unix(int64(viewed), 0).UTC()
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
// signed by key saying that package want is destroyed. A receipt kept
// under protocol 2 (no use counts) verifies as it did then.
func VerifyDestruction(b []byte, key ed25519.PublicKey, want [32]byte) (StatusReply, error) {
	var r StatusReply
	var err error
	if len(b) == statusV2Size && string(b[:4]) == statusV2Magic {
		r, err = parseStatus(b, key, want, statusV2Ctx)
	} else {
		r, err = ParseStatusReply(b, key, want)
	}
	if err != nil {
		return StatusReply{}, err
	}
	if r.State != StateDestroyed {
		return StatusReply{}, fmt.Errorf("%w: status %s is not a destruction receipt", ErrProtocol, r.State)
	}
	return r, nil
}
