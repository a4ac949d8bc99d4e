package audit

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// PeerAnchors keeps the paired appliance's anchors (docs/transfer.md,
// "Audit anchors"): copies of another chain's head, which this side
// cannot check (the HMAC is the other's) but whose keeping the other side's
// insiders cannot undo.
type PeerAnchors struct{ pool *pgxpool.Pool }

// NewPeerAnchors returns the table on pool.
func NewPeerAnchors(pool *pgxpool.Pool) *PeerAnchors { return &PeerAnchors{pool: pool} }

// Keep records peer's anchor a, once (a push repeated after a restart
// changes nothing), with reply, the signed answer that came with it (nil
// on the side that answered).
func (p *PeerAnchors) Keep(ctx context.Context, peer string, a Anchor, reply []byte) error {
	mac, err1 := hex.DecodeString(a.MAC)
	sig, err2 := hex.DecodeString(a.Sig)
	if err := errors.Join(err1, err2); err != nil || len(mac) != 32 || len(sig) != 32 || a.Seq < 1 {
		return fmt.Errorf("audit: %s's anchor of entry %d is malformed", peer, a.Seq)
	}
	if _, err := p.pool.Exec(ctx, `INSERT INTO peer_anchor (peer, seq, mac, head_at, anchored_at, sig, reply)
		VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`, peer, a.Seq, mac, a.HeadAt, a.AnchoredAt, sig, reply); err != nil {
		return fmt.Errorf("audit: keep %s's anchor: %w", peer, err)
	}
	return nil
}

// Latest is peer's newest anchor kept here; ok is false when none is.
// Empty peer: the newest of any peer.
func (p *PeerAnchors) Latest(ctx context.Context, peer string) (a Anchor, ok bool, err error) {
	var mac, sig []byte
	err = p.pool.QueryRow(ctx, `SELECT seq, mac, head_at, anchored_at, sig FROM peer_anchor
		WHERE $1 = '' OR peer = $1 ORDER BY anchored_at DESC, id DESC LIMIT 1`, peer).Scan(&a.Seq, &mac, &a.HeadAt, &a.AnchoredAt, &sig)
	if errors.Is(err, pgx.ErrNoRows) {
		return Anchor{}, false, nil
	}
	if err != nil {
		return Anchor{}, false, fmt.Errorf("audit: %s's latest anchor: %w", peer, err)
	}
	a.Format, a.MAC, a.Sig = AnchorFormat, hex.EncodeToString(mac), hex.EncodeToString(sig)
	a.HeadAt, a.AnchoredAt = a.HeadAt.UTC(), a.AnchoredAt.UTC()
	return a, true, nil
}
