package transfer_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"sealgate/transfer"
)

func headAnchor() transfer.HeadAnchor {
	at := time.Date(2026, 12, 8, 2, 0, 0, 123456000, time.UTC)
	return transfer.HeadAnchor{Seq: 4021, MAC: [32]byte{1, 2, 3}, HeadAt: at.Add(-time.Minute), AnchoredAt: at, Sig: [32]byte{9, 8}}
}

// An anchor pushed reads back as itself; the outer's signed reply names
// it, carries the outer's own, and is refused when altered, about another
// anchor, or signed by another key.
func TestAnchorPushAndReply(t *testing.T) {
	a := headAnchor()
	push := a.MarshalPush()
	if len(push) != transfer.AnchorPushSize {
		t.Fatalf("push is %d bytes, want %d", len(push), transfer.AnchorPushSize)
	}
	req, err := transfer.ReadRequest(bytes.NewReader(push))
	if err != nil || req.Anchor == nil || *req.Anchor != a || req.Offer != nil || req.Query != nil {
		t.Fatalf("push read back as %+v, %v", req, err)
	}
	for name, bad := range map[string]transfer.HeadAnchor{
		"empty":             {},
		"no anchoring time": {Seq: 3, MAC: a.MAC, HeadAt: a.HeadAt},
		"head after anchor": {Seq: 3, MAC: a.MAC, HeadAt: a.AnchoredAt.Add(time.Second), AnchoredAt: a.AnchoredAt},
		"negative":          {Seq: -1, HeadAt: a.HeadAt, AnchoredAt: a.AnchoredAt},
	} {
		if _, err := transfer.ReadRequest(bytes.NewReader(bad.MarshalPush())); !errors.Is(err, transfer.ErrProtocol) {
			t.Errorf("%s anchor pushed: %v", name, err)
		}
	}
	if _, err := transfer.ReadRequest(bytes.NewReader(push[:len(push)-1])); err == nil {
		t.Error("a short push read")
	}

	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	other, _, _ := ed25519.GenerateKey(rand.Reader)
	outer := transfer.HeadAnchor{Seq: 77, MAC: [32]byte{7}, HeadAt: a.HeadAt, AnchoredAt: a.AnchoredAt, Sig: [32]byte{5}}
	signed := transfer.AnchorReply{Held: a, Outer: outer}.Sign(priv)
	if len(signed) != transfer.AnchorReplySize {
		t.Fatalf("reply is %d bytes, want %d", len(signed), transfer.AnchorReplySize)
	}
	rep, b, err := transfer.ReadAnchorReply(bytes.NewReader(signed), pub, a)
	if err != nil || rep.Held != a || rep.Outer != outer || !bytes.Equal(b, signed) {
		t.Fatalf("reply: %+v, %v", rep, err)
	}
	none := transfer.AnchorReply{Held: a}.Sign(priv) // an outer with no anchor of its own yet
	if rep, err := transfer.ParseAnchorReply(none, pub, a); err != nil || rep.Outer.Seq != 0 {
		t.Fatalf("a reply without the outer's anchor: %+v, %v", rep, err)
	}
	another := a
	another.Seq++
	if _, err := transfer.ParseAnchorReply(signed, pub, another); !errors.Is(err, transfer.ErrProtocol) {
		t.Errorf("a reply about another anchor: %v", err)
	}
	if _, err := transfer.ParseAnchorReply(signed, other, a); !errors.Is(err, transfer.ErrProtocol) {
		t.Errorf("a reply under another key: %v", err)
	}
	// A status reply signed by the same key never passes for an anchor reply.
	status := transfer.StatusReply{State: transfer.StateHeld, SHA256: sum}.Sign(priv)
	if _, err := transfer.ParseAnchorReply(append(status, make([]byte, transfer.AnchorReplySize-len(status))...), pub, a); err == nil {
		t.Error("a status reply passed as an anchor reply")
	}
	for i := range signed {
		bad := bytes.Clone(signed)
		bad[i] ^= 0x20
		if _, err := transfer.ParseAnchorReply(bad, pub, a); err == nil {
			t.Fatalf("flipped byte %d accepted", i)
		}
	}
}

// FuzzAnchorReply: the inner's reader of anchor replies never panics and
// accepts only what the outer's key signed.
func FuzzAnchorReply(f *testing.F) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	a := headAnchor()
	f.Add(transfer.AnchorReply{Held: a, Outer: a}.Sign(priv))
	f.Add(transfer.AnchorReply{Held: a}.Sign(priv))
	f.Fuzz(func(t *testing.T, b []byte) {
		rep, err := transfer.ParseAnchorReply(b, pub, a)
		if err != nil {
			return
		}
		if !bytes.Equal(rep.Sign(priv), b) {
			t.Fatalf("accepted an anchor reply the key did not produce: %x", b)
		}
	})
}
