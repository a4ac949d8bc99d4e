package daemon

import (
	"context"
	"encoding/hex"
	"fmt"

	"sealgate/appliance/cli"
	"sealgate/shared/audit"
	"sealgate/shared/config"
	"sealgate/shared/keys"
	"sealgate/transfer"
)

// The audit anchor exchange over the transfer (docs/transfer.md, "Audit
// anchors"): the inner pushes its anchor file's anchor, the outer keeps it
// and answers with its own; each side keeps the other's in peer_anchor.

// wireAnchor is a as the transfer carries it.
func wireAnchor(a audit.Anchor) (transfer.HeadAnchor, error) {
	h := transfer.HeadAnchor{Seq: a.Seq, HeadAt: a.HeadAt, AnchoredAt: a.AnchoredAt}
	mac, err1 := hex.DecodeString(a.MAC)
	sig, err2 := hex.DecodeString(a.Sig)
	if err1 != nil || err2 != nil || len(mac) != 32 || len(sig) != 32 {
		return transfer.HeadAnchor{}, fmt.Errorf("audit anchor of entry %d: malformed MAC or signature", a.Seq)
	}
	copy(h.MAC[:], mac)
	copy(h.Sig[:], sig)
	return h, nil
}

func auditAnchor(h transfer.HeadAnchor) audit.Anchor {
	return audit.Anchor{Format: audit.AnchorFormat, Seq: h.Seq, MAC: hex.EncodeToString(h.MAC[:]), HeadAt: h.HeadAt,
		AnchoredAt: h.AnchoredAt, Sig: hex.EncodeToString(h.Sig[:])}
}

// ownAnchor is the anchor file's anchor on the wire; Seq 0 when none.
func ownAnchor(file string) (transfer.HeadAnchor, error) {
	a, ok, err := audit.ReadAnchorFile(file)
	if err != nil || !ok || a.Seq == 0 {
		return transfer.HeadAnchor{}, err
	}
	return wireAnchor(a)
}

// InnerAnchors is the inner's side (send.Anchors).
type InnerAnchors struct {
	File  string // audit.anchor_file
	Peers *audit.PeerAnchors
}

// Latest implements send.Anchors.
func (a InnerAnchors) Latest(context.Context) (transfer.HeadAnchor, error) { return ownAnchor(a.File) }

// Held implements send.Anchors: the outer's own anchor is kept with its
// signed reply, the proof that the outer holds ours.
func (a InnerAnchors) Held(ctx context.Context, rep transfer.AnchorReply, signed []byte) error {
	if rep.Outer.Seq == 0 {
		return nil // the outer has not anchored yet
	}
	return a.Peers.Keep(ctx, "outer", auditAnchor(rep.Outer), signed)
}

// OuterAnchors is the outer's side (receive.Anchors).
type OuterAnchors struct {
	File  string
	Peers *audit.PeerAnchors
}

// KeepPeer implements receive.Anchors.
func (a OuterAnchors) KeepPeer(ctx context.Context, peer string, h transfer.HeadAnchor) error {
	return a.Peers.Keep(ctx, peer, auditAnchor(h), nil)
}

// Own implements receive.Anchors.
func (a OuterAnchors) Own(context.Context) (transfer.HeadAnchor, error) { return ownAnchor(a.File) }

// AuditPeerAnchorCmd writes the paired appliance's latest anchor kept
// here, for `audit verify --anchor` on that appliance.
type AuditPeerAnchorCmd struct {
	ConfigFlag
	Peer string `help:"The paired appliance (on the outer, the inner's peer name; on the inner, outer). Default: the newest of any."`
	Out  string `required:"" help:"File to write the anchor to (- for standard output)."`
}

// Run writes the anchor.
func (c *AuditPeerAnchorCmd) Run(ctx context.Context, app *App) error {
	return WithDatabase(ctx, app, c.Config, func(_ *config.Base, db *Database, _ *audit.Log, _ *keys.Secrets) error {
		a, ok, err := audit.NewPeerAnchors(db.Pool).Latest(ctx, c.Peer)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("no audit anchor of %q is kept here yet", c.Peer)
		}
		if c.Out == "-" {
			_, err = a.WriteTo(app.Stdout)
			return err
		}
		if err := audit.WriteAnchorFile(c.Out, a); err != nil {
			return err
		}
		return cli.PrintJSON(app.Stdout, map[string]any{"file": c.Out, "seq": a.Seq, "anchored_at": a.AnchoredAt})
	})
}
