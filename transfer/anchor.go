package transfer

import (
	"crypto/ed25519"
	"encoding/binary"
	"fmt"
	"io"
	"time"
)

// Sizes of an anchor push and the outer's signed answer.
const (
	headAnchorSize  = 8 + 32 + 8 + 8 + 32
	AnchorPushSize  = 4 + 1 + headAnchorSize
	AnchorReplySize = 4 + 8 + 32 + headAnchorSize + ed25519.SignatureSize
)

const (
	anchorType       = 3
	anchorReplyMagic = "SGA3"
	// anchorReplyCtx keeps an anchor reply's signature from verifying as
	// any other message the outer signs with the same key.
	anchorReplyCtx = "sealgate transfer v3 anchor reply\x00"
)

// HeadAnchor is an audit chain's head as shared/audit anchors it, in a
// fixed binary form: each side keeps the other's, out of its insiders'
// reach (docs/transfer.md, "Audit anchors"). Sig is the anchoring side's
// HMAC, which only that side can check: the copy proves what the head
// was, the keeper cannot forge one. Seq 0 is no anchor.
type HeadAnchor struct {
	Seq                int64
	MAC                [32]byte
	HeadAt, AnchoredAt time.Time // microseconds
	Sig                [32]byte
}

func (a HeadAnchor) append(b []byte) []byte {
	b = binary.BigEndian.AppendUint64(b, uint64(a.Seq))
	b = append(b, a.MAC[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(micros(a.HeadAt)))
	b = binary.BigEndian.AppendUint64(b, uint64(micros(a.AnchoredAt)))
	return append(b, a.Sig[:]...)
}

func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func parseHeadAnchor(b []byte) (HeadAnchor, error) {
	var a HeadAnchor
	a.Seq = int64(binary.BigEndian.Uint64(b[0:8]))
	copy(a.MAC[:], b[8:40])
	head, at := int64(binary.BigEndian.Uint64(b[40:48])), int64(binary.BigEndian.Uint64(b[48:56]))
	copy(a.Sig[:], b[56:88])
	switch {
	case a.Seq < 0 || head < 0 || at < 0 || head > maxUnix*1e6 || at > maxUnix*1e6:
		return HeadAnchor{}, fmt.Errorf("%w: anchor seq %d, times %d, %d", ErrProtocol, a.Seq, head, at)
	case a.Seq == 0 && (a.MAC != [32]byte{} || a.Sig != [32]byte{} || at != 0):
		return HeadAnchor{}, fmt.Errorf("%w: an empty anchor with content", ErrProtocol)
	case a.Seq > 0 && (at == 0 || head == 0 || head > at):
		return HeadAnchor{}, fmt.Errorf("%w: anchor of entry %d at %d, head at %d", ErrProtocol, a.Seq, at, head)
	}
	if head != 0 {
		a.HeadAt = time.UnixMicro(head).UTC()
	}
	if at != 0 {
		a.AnchoredAt = time.UnixMicro(at).UTC()
	}
	return a, nil
}

// MarshalPush encodes the inner's anchor as the first message of a stream.
func (a HeadAnchor) MarshalPush() []byte {
	return a.append(append([]byte(offerMagic), anchorType))
}

// AnchorReply is the outer's signed answer to a pushed anchor: that it
// keeps the inner's anchor Held, and its own chain's latest anchor.
type AnchorReply struct {
	Held  HeadAnchor // as pushed: only its seq and MAC travel back
	Outer HeadAnchor
}

func (r AnchorReply) body() []byte {
	b := append([]byte(anchorReplyMagic), binary.BigEndian.AppendUint64(nil, uint64(r.Held.Seq))...)
	b = append(b, r.Held.MAC[:]...)
	return r.Outer.append(b)
}

// Sign encodes the reply with the outer's signature.
func (r AnchorReply) Sign(key ed25519.PrivateKey) []byte {
	b := r.body()
	return append(b, ed25519.Sign(key, append([]byte(anchorReplyCtx), b...))...)
}

// ReadAnchorReply reads exactly one anchor reply signed by key about the
// anchor pushed, and returns its bytes as signed too (the receipt).
func ReadAnchorReply(r io.Reader, key ed25519.PublicKey, pushed HeadAnchor) (AnchorReply, []byte, error) {
	b := make([]byte, AnchorReplySize)
	if _, err := io.ReadFull(r, b); err != nil {
		return AnchorReply{}, nil, fmt.Errorf("transfer: read anchor reply: %w", err)
	}
	rep, err := ParseAnchorReply(b, key, pushed)
	return rep, b, err
}

// ParseAnchorReply accepts one well-formed anchor reply signed by key that
// names the anchor pushed, and nothing else.
func ParseAnchorReply(b []byte, key ed25519.PublicKey, pushed HeadAnchor) (AnchorReply, error) {
	if len(b) != AnchorReplySize || string(b[:4]) != anchorReplyMagic {
		return AnchorReply{}, fmt.Errorf("%w: bad anchor reply header", ErrProtocol)
	}
	n := len(b) - ed25519.SignatureSize
	if !ed25519.Verify(key, append([]byte(anchorReplyCtx), b[:n]...), b[n:]) {
		return AnchorReply{}, fmt.Errorf("%w: anchor reply signature does not verify", ErrProtocol)
	}
	var rep AnchorReply
	rep.Held.Seq = int64(binary.BigEndian.Uint64(b[4:12]))
	copy(rep.Held.MAC[:], b[12:44])
	if rep.Held.Seq != pushed.Seq || rep.Held.MAC != pushed.MAC {
		return AnchorReply{}, fmt.Errorf("%w: anchor reply about another anchor", ErrProtocol)
	}
	outer, err := parseHeadAnchor(b[44:n])
	if err != nil {
		return AnchorReply{}, err
	}
	rep.Held, rep.Outer = pushed, outer
	return rep, nil
}
