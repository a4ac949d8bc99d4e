package receive

import (
	"context"
	"log/slog"

	"github.com/quic-go/quic-go"

	"sealgate/transfer"
)

// Anchors keeps the paired inners' audit anchors on the outer and gives
// the outer's own (docs/transfer.md, "Audit anchors").
type Anchors interface {
	// KeepPeer records inner peer's anchor a, durably, before the reply.
	KeepPeer(ctx context.Context, peer string, a transfer.HeadAnchor) error
	// Own is the outer's latest anchor of its own chain; Seq 0 when none.
	Own(ctx context.Context) (transfer.HeadAnchor, error)
}

// keepAnchor records an inner's anchor and answers with the outer's own,
// signed: the inner's proof that its head is held here.
func (r *Receiver) keepAnchor(ctx context.Context, peer Peer, s *quic.Stream, a transfer.HeadAnchor, log *slog.Logger) {
	log = log.With(slog.Int64("anchor_seq", a.Seq))
	if r.cfg.Anchors == nil {
		s.CancelWrite(transfer.CodeUnavailable)
		return
	}
	ctx, cancel := context.WithTimeout(ctx, statusTimeout)
	defer cancel()
	if err := r.cfg.Anchors.KeepPeer(ctx, peer.Name, a); err != nil {
		log.Error("keep a paired inner's audit anchor", slog.Any("error", err))
		s.CancelWrite(transfer.CodeUnavailable)
		return
	}
	own, err := r.cfg.Anchors.Own(ctx)
	if err != nil {
		log.Warn("no audit anchor of our own to give back", slog.Any("error", err))
		own = transfer.HeadAnchor{}
	}
	if _, err := s.Write(transfer.AnchorReply{Held: a, Outer: own}.Sign(r.key)); err != nil {
		log.Info("anchor reply not sent", slog.Any("error", err))
		return
	}
	s.Close()
	log.Info("kept a paired inner's audit anchor", slog.Int64("own_seq", own.Seq))
}
