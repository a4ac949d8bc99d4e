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
	OfferSize = 4 + 1 + 32 + 8 + 1 + 1
	ReplySize = 4 + 1 + 1 + 32 + 1 + 8 + ed25519.SignatureSize
)

// MaxLanes bounds the ranges a package is split into.
const MaxLanes = 255

const (
	offerMagic = "SGT2"
	replyMagic = "SGR2"
	offerType  = 1
	replyCtx   = "sealgate transfer v2 reply\x00"
)

// Status is what a reply says.
type Status byte

// Statuses of a reply.
const (
	Continue Status = 1 // send the lane from Offset on
	Stored   Status = 2 // the receipt: verified, synced and recorded
	Already  Status = 3 // stored before; nothing to send
	Refused  Status = 4 // see the Reason
	Held     Status = 5 // the lane's bytes are in; other lanes are not yet
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
	ReasonBusy         Reason = 6 // the same lane is arriving on another stream
	ReasonInternal     Reason = 7
	reasonLast                = ReasonInternal
)

var reasonNames = map[Reason]string{ReasonNone: "none", ReasonBadPackage: "bad_package", ReasonHashMismatch: "hash_mismatch",
	ReasonQuota: "quota_full", ReasonDiskFull: "disk_full", ReasonTooLarge: "too_large", ReasonBusy: "busy", ReasonInternal: "internal"}

func (r Reason) String() string { return reasonNames[r] }

// Retryable reports whether a refusal may succeed later.
func (r Reason) Retryable() bool { return r != ReasonBadPackage && r != ReasonTooLarge }

// Offer announces one lane of a package: the package's bytes are split
// into Lanes ranges of nearly equal size (see [LaneRange]), each sent on a
// stream of its own, so that several connections share a package.
type Offer struct {
	SHA256 [32]byte
	Size   int64
	Lanes  int // 1..MaxLanes
	Lane   int // 0..Lanes-1
}

// Range is the lane's bytes, [start, end).
func (o Offer) Range() (start, end int64) { return LaneRange(o.Size, o.Lanes, o.Lane) }

// LaneRange is lane's share of a package of size bytes split into lanes.
func LaneRange(size int64, lanes, lane int) (start, end int64) {
	// size ≤ 2⁵⁰ (ReadOffer refuses more) and lanes ≤ MaxLanes < 2⁸: the
	// products stay below 2⁵⁸, inside an int64.
	return size * int64(lane) / int64(lanes), size * int64(lane+1) / int64(lanes)
}

// Marshal encodes the offer.
func (o Offer) Marshal() []byte {
	b := append([]byte(offerMagic), offerType)
	b = append(b, o.SHA256[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(o.Size))
	return append(b, byte(o.Lanes), byte(o.Lane))
}

// ErrProtocol reports a malformed message.
var ErrProtocol = errors.New("transfer: protocol violation")

// ReadOffer reads exactly one offer.
func ReadOffer(r io.Reader) (Offer, error) {
	b := make([]byte, OfferSize)
	if _, err := io.ReadFull(r, b); err != nil {
		return Offer{}, fmt.Errorf("transfer: read offer: %w", err)
	}
	return parseOffer(b)
}

// parseOffer checks an offer's OfferSize bytes.
func parseOffer(b []byte) (Offer, error) {
	if string(b[:4]) != offerMagic || b[4] != offerType {
		return Offer{}, fmt.Errorf("%w: bad offer header", ErrProtocol)
	}
	var o Offer
	copy(o.SHA256[:], b[5:37])
	size := binary.BigEndian.Uint64(b[37:45])
	if size == 0 || size > 1<<50 {
		return Offer{}, fmt.Errorf("%w: offer size %d", ErrProtocol, size)
	}
	o.Size, o.Lanes, o.Lane = int64(size), int(b[45]), int(b[46])
	if o.Lanes < 1 || o.Lanes > MaxLanes || int64(o.Lanes) > o.Size || o.Lane >= o.Lanes {
		return Offer{}, fmt.Errorf("%w: offer lane %d of %d", ErrProtocol, o.Lane, o.Lanes)
	}
	return o, nil
}

// Reply is the outer's answer to an offer, or its receipt. Offset is where
// the lane continues (Continue), or the package's size (Stored).
type Reply struct {
	Status Status
	Reason Reason
	SHA256 [32]byte
	Lane   int
	Offset int64
}

func (r Reply) body() []byte {
	b := append([]byte(replyMagic), byte(r.Status), byte(r.Reason))
	b = append(b, r.SHA256[:]...)
	b = append(b, byte(r.Lane))
	return binary.BigEndian.AppendUint64(b, uint64(r.Offset))
}

// Sign encodes the reply with the outer's signature.
func (r Reply) Sign(key ed25519.PrivateKey) []byte {
	b := r.body()
	return append(b, ed25519.Sign(key, append([]byte(replyCtx), b...))...)
}

// ParseReply accepts exactly one well-formed reply signed by key about the
// lane of the package want, and nothing else.
func ParseReply(b []byte, key ed25519.PublicKey, want [32]byte, lane int) (Reply, error) {
	if len(b) != ReplySize || string(b[:4]) != replyMagic {
		return Reply{}, fmt.Errorf("%w: bad reply header", ErrProtocol)
	}
	body, sig := b[:ReplySize-ed25519.SignatureSize], b[ReplySize-ed25519.SignatureSize:]
	if !ed25519.Verify(key, append([]byte(replyCtx), body...), sig) {
		return Reply{}, fmt.Errorf("%w: reply signature does not verify", ErrProtocol)
	}
	r := Reply{Status: Status(b[4]), Reason: Reason(b[5]), Lane: int(b[38])}
	copy(r.SHA256[:], b[6:38])
	off := binary.BigEndian.Uint64(b[39:47])
	switch {
	case r.Status < Continue || r.Status > Held:
		return Reply{}, fmt.Errorf("%w: reply status %d", ErrProtocol, r.Status)
	case r.Reason > reasonLast || (r.Status == Refused) != (r.Reason != ReasonNone):
		return Reply{}, fmt.Errorf("%w: reply reason %d with status %d", ErrProtocol, r.Reason, r.Status)
	case r.SHA256 != want:
		return Reply{}, fmt.Errorf("%w: reply about another package", ErrProtocol)
	case r.Lane != lane:
		return Reply{}, fmt.Errorf("%w: reply about lane %d, not %d", ErrProtocol, r.Lane, lane)
	case off > 1<<50:
		return Reply{}, fmt.Errorf("%w: reply offset %d", ErrProtocol, off)
	}
	r.Offset = int64(off)
	return r, nil
}

// VerifyReceipt checks a kept receipt: a reply signed by key saying that
// the outer holds the whole package want (Stored or Already), about
// whichever lane completed it.
func VerifyReceipt(b []byte, key ed25519.PublicKey, want [32]byte) (Reply, error) {
	if len(b) != ReplySize {
		return Reply{}, fmt.Errorf("%w: a receipt is %d bytes, not %d", ErrProtocol, ReplySize, len(b))
	}
	r, err := ParseReply(b, key, want, int(b[38]))
	if err != nil {
		return Reply{}, err
	}
	if r.Status != Stored && r.Status != Already {
		return Reply{}, fmt.Errorf("%w: reply status %d is not a receipt", ErrProtocol, r.Status)
	}
	return r, nil
}

// ReadReply reads exactly one reply from r and parses it. It returns the
// reply's bytes as the outer signed them too: a Stored or Already reply is
// the outer's receipt for the package, which the inner keeps as proof of
// delivery (ParseReply checks it again later).
func ReadReply(r io.Reader, key ed25519.PublicKey, want [32]byte, lane int) (Reply, []byte, error) {
	b := make([]byte, ReplySize)
	if _, err := io.ReadFull(r, b); err != nil {
		return Reply{}, nil, fmt.Errorf("transfer: read reply: %w", err)
	}
	rep, err := ParseReply(b, key, want, lane)
	return rep, b, err
}
