package transfer_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"testing"

	"sealgate/transfer"
)

var sum = [32]byte{1, 2, 3}

func TestReplyRoundTripAndRefusals(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	other, _, _ := ed25519.GenerateKey(rand.Reader)
	good := transfer.Reply{Status: transfer.Continue, SHA256: sum, Lane: 3, Offset: 12345}.Sign(priv)
	if len(good) != transfer.ReplySize {
		t.Fatalf("reply is %d bytes, want %d", len(good), transfer.ReplySize)
	}
	r, err := transfer.ParseReply(good, pub, sum, 3)
	if err != nil || r.Offset != 12345 || r.Status != transfer.Continue {
		t.Fatalf("ParseReply: %+v, %v", r, err)
	}
	for _, tc := range []struct {
		name string
		b    []byte
		key  ed25519.PublicKey
		want [32]byte
	}{
		{"other signer", good, other, sum},
		{"other package", good, pub, [32]byte{9}},
		{"other lane", transfer.Reply{Status: transfer.Continue, SHA256: sum, Lane: 2, Offset: 12345}.Sign(priv), pub, sum},
		{"short", good[:len(good)-1], pub, sum},
		{"long", append(bytes.Clone(good), 0), pub, sum},
		{"refused without reason", transfer.Reply{Status: transfer.Refused, SHA256: sum, Lane: 3}.Sign(priv), pub, sum},
		{"reason on success", transfer.Reply{Status: transfer.Stored, Reason: transfer.ReasonQuota, SHA256: sum, Lane: 3}.Sign(priv), pub, sum},
		{"unknown status", transfer.Reply{Status: 9, SHA256: sum, Lane: 3}.Sign(priv), pub, sum},
		{"unknown reason", transfer.Reply{Status: transfer.Refused, Reason: 8, SHA256: sum, Lane: 3}.Sign(priv), pub, sum},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := transfer.ParseReply(tc.b, tc.key, tc.want, 3); !errors.Is(err, transfer.ErrProtocol) {
				t.Fatalf("got %v, want ErrProtocol", err)
			}
		})
	}
	for i := range good {
		bad := bytes.Clone(good)
		bad[i] ^= 0x40
		if _, err := transfer.ParseReply(bad, pub, sum, 3); err == nil {
			t.Fatalf("flipped byte %d accepted", i)
		}
	}
}

func TestOffer(t *testing.T) {
	o := transfer.Offer{SHA256: sum, Size: 1 << 40, Lanes: 16, Lane: 15}
	got, err := transfer.ReadOffer(bytes.NewReader(o.Marshal()))
	if err != nil || got != o {
		t.Fatalf("ReadOffer: %+v, %v", got, err)
	}
	for _, b := range [][]byte{
		o.Marshal()[:10],
		append([]byte("XGT2"), o.Marshal()[4:]...),
		transfer.Offer{SHA256: sum, Lanes: 1}.Marshal(),                    // empty
		transfer.Offer{SHA256: sum, Size: 9, Lanes: 0}.Marshal(),           // no lanes
		transfer.Offer{SHA256: sum, Size: 9, Lanes: 2, Lane: 2}.Marshal(),  // lane out of range
		transfer.Offer{SHA256: sum, Size: 9, Lanes: 65, Lane: 0}.Marshal(), // too many lanes
		transfer.Offer{SHA256: sum, Size: 3, Lanes: 4, Lane: 0}.Marshal(),  // lanes longer than the package
	} {
		if _, err := transfer.ReadOffer(bytes.NewReader(b)); err == nil {
			t.Fatalf("offer %x accepted", b)
		}
	}
}

// The lanes of a package cover it exactly, in order, without overlap.
func TestLaneRangesCoverThePackage(t *testing.T) {
	for _, size := range []int64{1, 7, 64, 1<<20 + 3, 1 << 50} {
		for lanes := 1; lanes <= transfer.MaxLanes && int64(lanes) <= size; lanes++ {
			var next int64
			for lane := range lanes {
				start, end := transfer.LaneRange(size, lanes, lane)
				if start != next || end <= start {
					t.Fatalf("size %d, %d lanes: lane %d is [%d, %d), want it to start at %d and hold bytes", size, lanes, lane, start, end, next)
				}
				next = end
			}
			if next != size {
				t.Fatalf("size %d, %d lanes end at %d", size, lanes, next)
			}
		}
	}
}

// FuzzReply: the inner's reader of outer replies must never panic and must
// accept only what the outer's key signed.
func FuzzReply(f *testing.F) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	for _, r := range []transfer.Reply{
		{Status: transfer.Continue, SHA256: sum, Offset: 7},
		{Status: transfer.Stored, SHA256: sum, Offset: 9},
		{Status: transfer.Held, SHA256: sum, Offset: 9},
		{Status: transfer.Refused, Reason: transfer.ReasonQuota, SHA256: sum},
	} {
		f.Add(r.Sign(priv))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := transfer.ParseReply(b, pub, sum, 0)
		if err != nil {
			return
		}
		if !bytes.Equal(r.Sign(priv), b) {
			t.Fatalf("accepted a reply the key did not produce: %x", b)
		}
	})
}

// FuzzOffer: the outer's reader of offers.
func FuzzOffer(f *testing.F) {
	f.Add(transfer.Offer{SHA256: sum, Size: 5, Lanes: 1}.Marshal())
	f.Add(transfer.Offer{SHA256: sum, Size: 1 << 30, Lanes: 32, Lane: 31}.Marshal())
	f.Fuzz(func(t *testing.T, b []byte) {
		o, err := transfer.ReadOffer(bytes.NewReader(b))
		if err == nil && !bytes.Equal(o.Marshal(), b[:transfer.OfferSize]) {
			t.Fatalf("offer does not round-trip: %x", b)
		}
	})
}
