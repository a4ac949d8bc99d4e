package transfer_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"sealgate/transfer"
)

var destroyedAt = time.Date(2026, 12, 7, 9, 30, 0, 0, time.UTC)

func destroyedReply() transfer.StatusReply {
	return transfer.StatusReply{State: transfer.StateDestroyed, Reason: transfer.DestroyRevoked, SHA256: sum,
		DestroyedAt: destroyedAt, ReasonSHA256: sha256.Sum256([]byte("revoked: 수사 종결")),
		Use: transfer.Use{FirstViewed: destroyedAt.Add(-48 * time.Hour), Downloads: 2, Plays: 3}}
}

func TestStatusReplyRoundTripAndRefusals(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	other, _, _ := ed25519.GenerateKey(rand.Reader)
	good := destroyedReply().Sign(priv)
	if len(good) != transfer.StatusReplySize {
		t.Fatalf("status reply is %d bytes, want %d", len(good), transfer.StatusReplySize)
	}
	r, err := transfer.ParseStatusReply(good, pub, sum)
	if err != nil || r != destroyedReply() {
		t.Fatalf("ParseStatusReply: %+v, %v", r, err)
	}
	if r, err := transfer.VerifyDestruction(good, pub, sum); err != nil || !r.DestroyedAt.Equal(destroyedAt) {
		t.Fatalf("VerifyDestruction: %+v, %v", r, err)
	}
	held := transfer.StatusReply{State: transfer.StateHeld, SHA256: sum}.Sign(priv)
	if r, err := transfer.ParseStatusReply(held, pub, sum); err != nil || r.State != transfer.StateHeld {
		t.Fatalf("held: %+v, %v", r, err)
	}
	if _, err := transfer.VerifyDestruction(held, pub, sum); !errors.Is(err, transfer.ErrProtocol) {
		t.Fatalf("a held reply verified as a destruction receipt: %v", err)
	}
	// A delivery receipt signed by the same key is no destruction receipt.
	receipt := transfer.Reply{Status: transfer.Stored, SHA256: sum, Offset: 9}.Sign(priv)
	if _, err := transfer.VerifyDestruction(append(bytes.Clone(receipt), make([]byte, transfer.StatusReplySize-len(receipt))...), pub, sum); err == nil {
		t.Fatal("a delivery receipt passed as a destruction receipt")
	}
	// The same body signed under the transfer Reply's context does not verify.
	body := good[:transfer.StatusReplySize-ed25519.SignatureSize]
	crossed := append(bytes.Clone(body), ed25519.Sign(priv, append([]byte("sealgate transfer v2 reply\x00"), body...))...)
	if _, err := transfer.ParseStatusReply(crossed, pub, sum); !errors.Is(err, transfer.ErrProtocol) {
		t.Fatalf("a signature under the reply context verified: %v", err)
	}
	mk := func(f func(*transfer.StatusReply)) []byte { r := destroyedReply(); f(&r); return r.Sign(priv) }
	for _, tc := range []struct {
		name string
		b    []byte
		key  ed25519.PublicKey
		want [32]byte
	}{
		{"other signer", good, other, sum},
		{"other package", good, pub, [32]byte{9}},
		{"short", good[:len(good)-1], pub, sum},
		{"long", append(bytes.Clone(good), 0), pub, sum},
		{"destroyed without reason", mk(func(r *transfer.StatusReply) { r.Reason = transfer.DestroyNone }), pub, sum},
		{"destroyed without time", mk(func(r *transfer.StatusReply) { r.DestroyedAt = time.Time{} }), pub, sum},
		{"destroyed far in the future", mk(func(r *transfer.StatusReply) { r.DestroyedAt = time.Unix(1<<41, 0) }), pub, sum},
		{"held with a reason", mk(func(r *transfer.StatusReply) {
			r.State, r.DestroyedAt, r.ReasonSHA256 = transfer.StateHeld, time.Time{}, [32]byte{}
		}), pub, sum},
		{"held with a time", mk(func(r *transfer.StatusReply) { r.State, r.Reason, r.ReasonSHA256 = transfer.StateHeld, 0, [32]byte{} }), pub, sum},
		{"unknown with a reason hash", mk(func(r *transfer.StatusReply) {
			r.State, r.Reason, r.DestroyedAt = transfer.StateUnknown, 0, time.Time{}
		}), pub, sum},
		{"unknown state", mk(func(r *transfer.StatusReply) { r.State = 4 }), pub, sum},
		{"no state", mk(func(r *transfer.StatusReply) { r.State = 0 }), pub, sum},
		{"unknown reason", mk(func(r *transfer.StatusReply) { r.Reason = 4 }), pub, sum},
		{"viewed after its destruction", mk(func(r *transfer.StatusReply) { r.FirstViewed = destroyedAt.Add(time.Second) }), pub, sum},
		{"counts without a first view", mk(func(r *transfer.StatusReply) { r.FirstViewed = time.Time{} }), pub, sum},
		{"a count past any clip's", mk(func(r *transfer.StatusReply) { r.Plays = 1<<24 + 1 }), pub, sum},
		{"unknown yet used", transfer.StatusReply{State: transfer.StateUnknown, SHA256: sum,
			Use: transfer.Use{FirstViewed: destroyedAt, Downloads: 1}}.Sign(priv), pub, sum},
		{"a protocol 2 reply on the wire", v2Receipt(priv), pub, sum},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := transfer.ParseStatusReply(tc.b, tc.key, tc.want); !errors.Is(err, transfer.ErrProtocol) {
				t.Fatalf("got %v, want ErrProtocol", err)
			}
		})
	}
	for i := range good {
		bad := bytes.Clone(good)
		bad[i] ^= 0x40
		if _, err := transfer.ParseStatusReply(bad, pub, sum); err == nil {
			t.Fatalf("flipped byte %d accepted", i)
		}
	}
}

// v2Receipt is a destruction receipt as protocol 2 signed it: no use counts.
func v2Receipt(priv ed25519.PrivateKey) []byte {
	r := destroyedReply()
	b := append([]byte("SGD2"), byte(r.State), byte(r.Reason))
	b = append(b, r.SHA256[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(r.DestroyedAt.Unix()))
	b = append(b, r.ReasonSHA256[:]...)
	return append(b, ed25519.Sign(priv, append([]byte("sealgate transfer v2 destruction status\x00"), b...))...)
}

// A destruction receipt kept before protocol 3 still verifies, with no
// use; under another key, or altered, it does not.
func TestVerifyDestructionKeptUnderProtocol2(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	old := v2Receipt(priv)
	r, err := transfer.VerifyDestruction(old, pub, sum)
	if want := destroyedReply(); err != nil || r.Use != (transfer.Use{}) || r.Reason != want.Reason || !r.DestroyedAt.Equal(want.DestroyedAt) {
		t.Fatalf("a protocol 2 receipt: %+v, %v", r, err)
	}
	other, _, _ := ed25519.GenerateKey(rand.Reader)
	if _, err := transfer.VerifyDestruction(old, other, sum); !errors.Is(err, transfer.ErrProtocol) {
		t.Fatalf("a protocol 2 receipt under another key: %v", err)
	}
	for i := range old {
		bad := bytes.Clone(old)
		bad[i] ^= 0x40
		if _, err := transfer.VerifyDestruction(bad, pub, sum); err == nil {
			t.Fatalf("a protocol 2 receipt with byte %d flipped verified", i)
		}
	}
}

// The receiver reads a stream's first message as an offer or a query,
// each to its size exactly.
func TestReadRequest(t *testing.T) {
	o := transfer.Offer{SHA256: sum, Size: 1 << 20, Lanes: 2, Lane: 1}
	req, err := transfer.ReadRequest(bytes.NewReader(o.Marshal()))
	if err != nil || req.Offer == nil || *req.Offer != o || req.Query != nil {
		t.Fatalf("offer: %+v, %v", req, err)
	}
	q := transfer.Query{SHA256: sum}
	if len(q.Marshal()) != transfer.QuerySize {
		t.Fatalf("query is %d bytes, want %d", len(q.Marshal()), transfer.QuerySize)
	}
	rd := bytes.NewReader(append(q.Marshal(), "rest"...))
	req, err = transfer.ReadRequest(rd)
	if err != nil || req.Query == nil || *req.Query != q || req.Offer != nil || rd.Len() != 4 {
		t.Fatalf("query: %+v, %v, %d bytes left", req, err, rd.Len())
	}
	for _, b := range [][]byte{
		q.Marshal()[:transfer.QuerySize-1],
		append([]byte("SGT2\x03"), sum[:]...),
		append([]byte("SGQ2\x02"), sum[:]...),
		o.Marshal()[:transfer.OfferSize-1],
		transfer.Offer{SHA256: sum, Size: 9, Lanes: 0}.Marshal(),
		{},
	} {
		if _, err := transfer.ReadRequest(bytes.NewReader(b)); err == nil {
			t.Fatalf("request %x accepted", b)
		}
	}
}

// FuzzStatusReply: the inner's reader of status replies must never panic
// and must accept only what the outer's key signed.
func FuzzStatusReply(f *testing.F) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	for _, r := range []transfer.StatusReply{
		destroyedReply(),
		{State: transfer.StateDestroyed, Reason: transfer.DestroyExpired, SHA256: sum, DestroyedAt: destroyedAt, ReasonSHA256: [32]byte{7}},
		{State: transfer.StateDestroyed, Reason: transfer.DestroyOther, SHA256: sum, DestroyedAt: time.Unix(1, 0)},
		{State: transfer.StateHeld, SHA256: sum},
		{State: transfer.StateHeld, SHA256: sum, Use: transfer.Use{FirstViewed: destroyedAt, Downloads: 1, Plays: 9}},
		{State: transfer.StateUnknown, SHA256: sum},
	} {
		f.Add(r.Sign(priv))
	}
	f.Add(v2Receipt(priv))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := transfer.ParseStatusReply(b, pub, sum)
		if err != nil {
			return
		}
		if !bytes.Equal(r.Sign(priv), b) {
			t.Fatalf("accepted a status reply the key did not produce: %x", b)
		}
	})
}

// FuzzRequest: the outer's reader of a stream's first message.
func FuzzRequest(f *testing.F) {
	f.Add(transfer.Query{SHA256: sum}.Marshal())
	f.Add(transfer.Offer{SHA256: sum, Size: 5, Lanes: 1}.Marshal())
	f.Add(transfer.Offer{SHA256: sum, Size: 1 << 30, Lanes: 32, Lane: 31}.Marshal())
	f.Add(headAnchor().MarshalPush())
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := transfer.ReadRequest(bytes.NewReader(b))
		switch {
		case err != nil:
		case btoi(req.Offer != nil)+btoi(req.Query != nil)+btoi(req.Anchor != nil) != 1:
			t.Fatalf("request %x is not exactly one message: %+v", b, req)
		case req.Anchor != nil && !bytes.Equal(req.Anchor.MarshalPush(), b[:transfer.AnchorPushSize]):
			t.Fatalf("anchor does not round-trip: %x", b)
		case req.Offer != nil && !bytes.Equal(req.Offer.Marshal(), b[:transfer.OfferSize]):
			t.Fatalf("offer does not round-trip: %x", b)
		case req.Query != nil && !bytes.Equal(req.Query.Marshal(), b[:transfer.QuerySize]):
			t.Fatalf("query does not round-trip: %x", b)
		}
	})
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
