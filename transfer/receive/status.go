package receive

import (
	"context"
	"encoding/hex"
	"log/slog"
	"time"

	"github.com/quic-go/quic-go"

	"sealgate/transfer"
)

// Records is what the outer's packages table says of a package, for the
// inner's status queries (outer/pkgstore.Store implements it).
type Records interface {
	// Fate returns the peer a package came from and its state, its
	// destruction's time, reason code and the reason text's SHA-256 when
	// destroyed; StateUnknown with no peer when it is not on record.
	Fate(ctx context.Context, sum [32]byte) (peer string, rep transfer.StatusReply, err error)
}

// statusTimeout bounds the records' answer to one query.
const statusTimeout = 10 * time.Second

// answer replies to a status query with the signed state of the package.
// A package another inner delivered is answered unknown, as one never
// seen is: an inner learns nothing of what other appliances sent.
func (r *Receiver) answer(ctx context.Context, peer Peer, s *quic.Stream, q transfer.Query, log *slog.Logger) {
	log = log.With(slog.String("sha256", hex.EncodeToString(q.SHA256[:])))
	if r.cfg.Records == nil {
		r.m.queries.WithLabelValues(peer.Name, "unavailable").Inc()
		s.CancelWrite(transfer.CodeUnavailable)
		return
	}
	ctx, cancel := context.WithTimeout(ctx, statusTimeout)
	defer cancel()
	from, rep, err := r.cfg.Records.Fate(ctx, q.SHA256)
	if err != nil {
		log.Error("read the package's state for a status query", slog.Any("error", err))
		r.m.queries.WithLabelValues(peer.Name, "unavailable").Inc()
		s.CancelWrite(transfer.CodeUnavailable)
		return
	}
	if rep.State == 0 || from != peer.Name {
		rep = transfer.StatusReply{State: transfer.StateUnknown}
	}
	rep.SHA256 = q.SHA256
	r.m.queries.WithLabelValues(peer.Name, rep.State.String()).Inc()
	if _, err := s.Write(rep.Sign(r.key)); err != nil {
		log.Info("status reply not sent", slog.Any("error", err))
		return
	}
	s.Close()
	log.Debug("status query answered", slog.String("state", rep.State.String()))
}
