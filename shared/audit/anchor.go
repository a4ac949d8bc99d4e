package audit

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// AnchorFormat names the anchor file's layout and the signature's domain.
const AnchorFormat = "sealgate-audit-anchor/1"

// ErrAnchorSignature reports an anchor file not signed with this
// appliance's audit key, or changed since.
var ErrAnchorSignature = errors.New("audit: the anchor's signature does not match this appliance's audit key")

// Anchor records the head of the chain at one moment, signed with the audit
// key. The chain alone cannot show that its newest entries were removed,
// nor, to someone holding the key, that it was rewritten and re-chained;
// an anchor kept off the appliance can: the log must still hold Seq
// entries and entry Seq must still have this MAC, which covers every entry
// before it.
type Anchor struct {
	Format     string    `json:"format"`
	Seq        int64     `json:"seq"`         // the head entry: the number of entries
	MAC        string    `json:"mac"`         // the head entry's MAC, hex
	HeadAt     time.Time `json:"head_at"`     // the head entry's time (zero for an empty log)
	AnchoredAt time.Time `json:"anchored_at"` // when the anchor was made
	Sig        string    `json:"sig"`         // HMAC-SHA256 of the fields above, hex
}

// Anchor verifies the chain and returns a signed anchor of its head. A
// broken chain is not anchored: that would vouch for the tampering.
func (l *Log) Anchor(ctx context.Context) (Anchor, error) { return l.AnchorAfter(ctx, nil) }

// AnchorAfter is Anchor holding the chain to prev as well ([Log.VerifyAnchor]),
// in one walk: the daemon's periodic anchoring (nil prev: none yet).
func (l *Log) AnchorAfter(ctx context.Context, prev *Anchor) (Anchor, error) {
	var head Entry
	if _, err := l.verifyAgainst(ctx, prev, func(e *Entry) { head = *e }); err != nil {
		return Anchor{}, err
	}
	a := Anchor{Format: AnchorFormat, Seq: head.Seq, MAC: hex.EncodeToString(head.MAC), HeadAt: head.At.UTC(),
		AnchoredAt: time.Now().UTC().Truncate(time.Microsecond)}
	a.Sig = hex.EncodeToString(l.anchorSig(&a))
	return a, nil
}

// WriteTo writes the anchor as JSON.
func (a Anchor) WriteTo(w io.Writer) (int64, error) {
	b, err := json.MarshalIndent(a, "", "  ")
	if err != nil {
		return 0, fmt.Errorf("audit: encode anchor: %w", err)
	}
	n, err := w.Write(append(b, '\n'))
	return int64(n), err
}

// ReadAnchor parses an anchor file; its signature is checked by [Log.VerifyAnchor].
func ReadAnchor(r io.Reader) (Anchor, error) {
	var a Anchor
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&a); err != nil {
		return Anchor{}, fmt.Errorf("audit: read anchor: %w", err)
	}
	if a.Format != AnchorFormat {
		return Anchor{}, fmt.Errorf("audit: read anchor: format %q, want %q", a.Format, AnchorFormat)
	}
	return a, nil
}

// VerifyAnchor is [Log.Verify] that also holds the log to an earlier
// anchor: it fails with a *BrokenError when entries the anchor counted are
// missing (the tail was deleted) or entry a.Seq no longer has the anchored
// MAC (history up to it was rewritten), and with ErrAnchorSignature when
// the anchor is not this appliance's.
func (l *Log) VerifyAnchor(ctx context.Context, a Anchor) (int64, error) {
	return l.verifyAgainst(ctx, &a, nil)
}

// verifyAgainst walks the chain, holding it to a when set, and calls each
// (if set) with every entry that holds.
func (l *Log) verifyAgainst(ctx context.Context, a *Anchor, each func(*Entry)) (int64, error) {
	if a == nil {
		return l.verify(ctx, func(e *Entry) error {
			if each != nil {
				each(e)
			}
			return nil
		})
	}
	want, err := hex.DecodeString(a.Sig)
	if err != nil || !hmac.Equal(want, l.anchorSig(a)) {
		return 0, ErrAnchorSignature
	}
	mac, err := hex.DecodeString(a.MAC)
	if err != nil {
		return 0, ErrAnchorSignature // signed, so not reachable without the key
	}
	when := a.AnchoredAt.Format(time.RFC3339)
	n, err := l.verify(ctx, func(e *Entry) error {
		if e.Seq == a.Seq && !hmac.Equal(e.MAC, mac) {
			return &BrokenError{Seq: e.Seq, Reason: fmt.Sprintf("does not match the anchor of %s: the history up to this entry was rewritten and re-chained", when)}
		}
		if each != nil {
			each(e)
		}
		return nil
	})
	if err != nil {
		return n, err
	}
	if n < a.Seq {
		return n, &BrokenError{Seq: n + 1, Reason: fmt.Sprintf("missing: the log ends at entry %d, but the anchor of %s counted %d entries: the newest entries were deleted (truncated)", n, when, a.Seq)}
	}
	return n, nil
}

// anchorSig is HMAC-SHA256 under a key derived from the audit key, so an
// anchor's signature can never pass for an entry's MAC or the reverse.
func (l *Log) anchorSig(a *Anchor) []byte {
	k := hmac.New(sha256.New, l.key)
	k.Write([]byte(AnchorFormat))
	h := hmac.New(sha256.New, k.Sum(nil))
	var n [8]byte
	for _, v := range []int64{a.Seq, a.HeadAt.UnixMicro(), a.AnchoredAt.UnixMicro()} {
		binary.BigEndian.PutUint64(n[:], uint64(v))
		h.Write(n[:])
	}
	h.Write([]byte(a.MAC))
	return h.Sum(nil)
}
