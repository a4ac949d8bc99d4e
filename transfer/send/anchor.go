package send

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"sealgate/transfer"
)

// Anchors is the inner's side of the audit anchor exchange
// (docs/transfer.md, "Audit anchors"): its own latest anchor to push, and
// where the outer's signed answer is kept.
type Anchors interface {
	// Latest is this appliance's newest anchor; Seq 0 when there is none.
	Latest(ctx context.Context) (transfer.HeadAnchor, error)
	// Held records that the outer keeps pushed, with the outer's own
	// latest anchor, and the reply as the outer signed it.
	Held(ctx context.Context, rep transfer.AnchorReply, signed []byte) error
}

// PushAnchor sends anchor a on a new stream and reads the outer's signed
// reply, verified against the outer's key pinned in the handshake.
func (c *Conn) PushAnchor(ctx context.Context, a transfer.HeadAnchor) (transfer.AnchorReply, []byte, error) {
	s, err := c.q.OpenStreamSync(ctx)
	if err != nil {
		return transfer.AnchorReply{}, nil, fmt.Errorf("send: open stream: %w", err)
	}
	defer s.CancelRead(transfer.CodeOK)
	stop := context.AfterFunc(ctx, func() { s.CancelWrite(transfer.CodeShuttingOff); s.CancelRead(transfer.CodeShuttingOff) })
	defer stop()
	if _, err := s.Write(a.MarshalPush()); err != nil {
		return transfer.AnchorReply{}, nil, fmt.Errorf("send: anchor: %w", err)
	}
	s.Close()
	s.SetReadDeadline(time.Now().Add(transfer.IdleTimeout))
	return transfer.ReadAnchorReply(s, c.outerKey, a)
}

// anchors pushes, every QueryPoll while the link is up, the inner's
// latest anchor when the outer does not hold it yet. A push that fails is
// tried again next round; after a restart the last one is pushed again,
// which the outer keeps once.
func (s *Sender) anchors(ctx context.Context, pool *Pool, src Anchors) {
	var held transfer.HeadAnchor
	s.rounds(ctx, pool, func() {
		a, err := src.Latest(ctx)
		if err != nil {
			s.cfg.Log.Error("read the audit anchor to push", slog.Any("error", err))
			return
		}
		if a.Seq == 0 || a == held {
			return
		}
		rep, signed, err := func() (transfer.AnchorReply, []byte, error) {
			c, err := pool.get(ctx)
			if err != nil {
				return transfer.AnchorReply{}, nil, err
			}
			return c.PushAnchor(ctx, a)
		}()
		if err != nil {
			s.cfg.Log.Info("audit anchor not pushed; trying again", slog.Any("error", err))
			return
		}
		if err := src.Held(context.WithoutCancel(ctx), rep, signed); err != nil {
			s.cfg.Log.Error("record the outer's anchor reply", slog.Any("error", err))
			return
		}
		held = a
		s.cfg.Log.Info("the outer holds our audit anchor", slog.Int64("seq", a.Seq), slog.Int64("outer_seq", rep.Outer.Seq))
	})
}
