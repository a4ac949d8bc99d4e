package transfer

import (
	"crypto/ed25519"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Sizes of the two messages.
const (
	OfferSize = 4 + 1 + 32 + 8
	ReplySize = 4 + 1 + 1 + 32 + 8 + ed25519.SignatureSize
)

const (
	offerMagic = "SGT1"
	replyMagic = "SGR1"
	offerType  = 1
	replyCtx   = "sealgate transfer v1 reply\x00"
)

// Status is what a reply says.
type Status byte

// Statuses of a reply.
const (
	Continue Status = 1 // send from Offset on
	Stored   Status = 2 // the receipt: verified, synced and recorded
	Already  Status = 3 // stored before; nothing to send
	Refused  Status = 4 // see the Reason
)

// Reason says why a package was refused.
type Reason byte

// Reasons; Retryable says which are worth sending again later.
const (
	ReasonNone         Reason = 0
	ReasonBadPackage   Reason = 1 // not a package, or its signature does not verify: final
	ReasonHashMismatch Reason = 2 // the bytes did not hash to the offer: resend from zero
	ReasonQuota        Reason = 3 // the store's quota is full
	ReasonDiskFull     Reason = 4
	ReasonTooLarge     Reason = 5 // larger than the outer accepts: final
	ReasonBusy         Reason = 6 // the same package is arriving on another stream
	ReasonInternal     Reason = 7
)

var reasonNames = map[Reason]string{ReasonNone: "none", ReasonBadPackage: "bad_package", ReasonHashMismatch: "hash_mismatch",
	ReasonQuota: "quota_full", ReasonDiskFull: "disk_full", ReasonTooLarge: "too_large", ReasonBusy: "busy", ReasonInternal: "internal"}

func (r Reason) String() string { return reasonNames[r] }

// Retryable reports whether a refusal may succeed later.
func (r Reason) Retryable() bool { return r != ReasonBadPackage && r != ReasonTooLarge }

// Offer announces a package.
type Offer struct {
	SHA256 [32]byte
	Size   int64
}

// Marshal encodes the offer.
func (o Offer) Marshal() []byte {
	b := append([]byte(offerMagic), offerType)
	b = append(b, o.SHA256[:]...)
	return binary.BigEndian.AppendUint64(b, uint64(o.Size))
}

// ErrProtocol reports a malformed message.
var ErrProtocol = errors.New("transfer: protocol violation")

// ReadOffer reads exactly one offer.
func ReadOffer(r io.Reader) (Offer, error) {
	b := make([]byte, OfferSize)
	if _, err := io.ReadFull(r, b); err != nil {
		return Offer{}, fmt.Errorf("transfer: read offer: %w", err)
	}
	if string(b[:4]) != offerMagic || b[4] != offerType {
		return Offer{}, fmt.Errorf("%w: bad offer header", ErrProtocol)
	}
	var o Offer
	copy(o.SHA256[:], b[5:37])
	size := binary.BigEndian.Uint64(b[37:])
	if size == 0 || size > 1<<50 {
		return Offer{}, fmt.Errorf("%w: offer size %d", ErrProtocol, size)
	}
	o.Size = int64(size)
	return o, nil
}

// Reply is the outer's answer to an offer, or its receipt.
type Reply struct {
	Status Status
	Reason Reason
	SHA256 [32]byte
	Offset int64
}

func (r Reply) body() []byte {
	b := append([]byte(replyMagic), byte(r.Status), byte(r.Reason))
	b = append(b, r.SHA256[:]...)
	return binary.BigEndian.AppendUint64(b, uint64(r.Offset))
}

// Sign encodes the reply with the outer's signature.
func (r Reply) Sign(key ed25519.PrivateKey) []byte {
	b := r.body()
	return append(b, ed25519.Sign(key, append([]byte(replyCtx), b...))...)
}

// ParseReply accepts exactly one well-formed reply signed by key about the
// package want, and nothing else.
func ParseReply(b []byte, key ed25519.PublicKey, want [32]byte) (Reply, error) {
	if len(b) != ReplySize || string(b[:4]) != replyMagic {
		return Reply{}, fmt.Errorf("%w: bad reply header", ErrProtocol)
	}
	body, sig := b[:ReplySize-ed25519.SignatureSize], b[ReplySize-ed25519.SignatureSize:]
	if !ed25519.Verify(key, append([]byte(replyCtx), body...), sig) {
		return Reply{}, fmt.Errorf("%w: reply signature does not verify", ErrProtocol)
	}
	r := Reply{Status: Status(b[4]), Reason: Reason(b[5])}
	copy(r.SHA256[:], b[6:38])
	off := binary.BigEndian.Uint64(b[38:46])
	switch {
	case r.Status < Continue || r.Status > Refused:
		return Reply{}, fmt.Errorf("%w: reply status %d", ErrProtocol, r.Status)
	case r.Reason > ReasonInternal || (r.Status == Refused) != (r.Reason != ReasonNone):
		return Reply{}, fmt.Errorf("%w: reply reason %d with status %d", ErrProtocol, r.Reason, r.Status)
	case r.SHA256 != want:
		return Reply{}, fmt.Errorf("%w: reply about another package", ErrProtocol)
	case off > 1<<50:
		return Reply{}, fmt.Errorf("%w: reply offset %d", ErrProtocol, off)
	}
	r.Offset = int64(off)
	return r, nil
}

// ReadReply reads exactly one reply from r and parses it.
func ReadReply(r io.Reader, key ed25519.PublicKey, want [32]byte) (Reply, error) {
	b := make([]byte, ReplySize)
	if _, err := io.ReadFull(r, b); err != nil {
		return Reply{}, fmt.Errorf("transfer: read reply: %w", err)
	}
	return ParseReply(b, key, want)
}
