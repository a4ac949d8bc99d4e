package send

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"log/slog"
	"time"

	"sealgate/transfer"
)

// Query asks the outer, on a new stream, what became of package sum. The
// answer is verified against the outer's key pinned in the handshake; a
// destroyed package's answer (its bytes, signed) is the destruction
// receipt.
func (c *Conn) Query(ctx context.Context, sum [32]byte) (transfer.StatusReply, []byte, error) {
	s, err := c.q.OpenStreamSync(ctx)
	if err != nil {
		return transfer.StatusReply{}, nil, fmt.Errorf("send: open stream: %w", err)
	}
	defer s.CancelRead(transfer.CodeOK)
	stop := context.AfterFunc(ctx, func() { s.CancelWrite(transfer.CodeShuttingOff); s.CancelRead(transfer.CodeShuttingOff) })
	defer stop()
	// Not one of the connection's watched waits: the outer reads its
	// database to answer, and a slow answer is no stalled path.
	if _, err := s.Write(transfer.Query{SHA256: sum}.Marshal()); err != nil {
		return transfer.StatusReply{}, nil, fmt.Errorf("send: status query: %w", err)
	}
	s.Close()
	s.SetReadDeadline(time.Now().Add(transfer.IdleTimeout))
	rep, signed, err := transfer.ReadStatusReply(s, c.outerKey, sum)
	if err != nil {
		return transfer.StatusReply{}, nil, err
	}
	return rep, signed, nil
}

// OuterKey is the outer's transfer key, pinned in the handshake: the key
// its replies and receipts are signed with.
func (c *Conn) OuterKey() ed25519.PublicKey { return c.outerKey }

// Delivered is a delivered package whose destruction is not verified yet.
type Delivered struct {
	ID          int64
	SHA256      [32]byte
	DeliveredAt time.Time
	ViewUntil   time.Time // the end of its viewing window; zero: not known
}

// Receipts is the part of the queue that keeps the outer's destruction
// receipts (inner/outbox). A Queue that implements it gets its delivered
// packages asked about.
type Receipts interface {
	// DueForQuery claims up to n delivered packages, not verified
	// destroyed, whose next query is due by now: each is not handed out
	// again for a while (a sender that dies mid-query loses nothing).
	DueForQuery(ctx context.Context, now time.Time, n int) ([]Delivered, error)
	// Answered records the outer's answer about package id: signed is the
	// status reply as the outer signed it, which the queue verifies
	// against outerKey before it records anything. A destroyed package is
	// done; any other is due again at next.
	Answered(ctx context.Context, id int64, signed []byte, outerKey ed25519.PublicKey, next time.Time) error
	// Unanswered records a query that failed (link, outer unavailable);
	// the package is due again at next.
	Unanswered(ctx context.Context, id int64, cause error, next time.Time) error
}

// Timing of the status queries (docs/transfer.md, "Destruction receipts").
const (
	// QueryAfter is how long after a viewing window ends the first query
	// waits: the outer's expiry sweeps every minute.
	QueryAfter = 2 * time.Minute
	// QueryEvery is the first wait between queries once a window has
	// ended; it grows with the time since (a backoff) up to QueryAtMost.
	QueryEvery  = 10 * time.Minute
	QueryAtMost = 6 * time.Hour
	// QueryEarly is how often, by default (Config.QueryEarly), a package
	// inside its window is asked about: an admin may revoke it before its
	// end, and the ledger shows its downloads and plays as of the last
	// answer. A thousand packages cost a query every 3.6 s.
	QueryEarly = time.Hour
	// QueryBatch bounds the queries of one round.
	QueryBatch = 32
	// QueryRetry is the wait after a query that failed.
	QueryRetry = time.Minute
)

// NextQuery is when to ask again, at now, about a package delivered at
// delivered whose viewing window ends at until (zero: not known): at the
// window's end, and every early before it; after it, waits that grow
// with the time since, from QueryEvery up to QueryAtMost.
func NextQuery(now, delivered, until time.Time, early time.Duration) time.Time {
	base := delivered
	if !until.IsZero() {
		base = until.Add(QueryAfter)
		if now.Before(base) {
			return minTime(base, now.Add(early))
		}
	}
	return now.Add(min(max(now.Sub(base), QueryEvery), QueryAtMost))
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// rounds calls round every QueryPoll while the link is up, until ctx ends.
func (s *Sender) rounds(ctx context.Context, pool *Pool, round func()) {
	tick := time.NewTicker(s.cfg.QueryPoll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		select {
		case <-pool.Ready():
			round()
		default: // no link: nothing is claimed
		}
	}
}

// receipts asks, every QueryPoll while the link is up, about the
// delivered packages that are due, at most QueryBatch a round.
func (s *Sender) receipts(ctx context.Context, pool *Pool, rc Receipts) {
	s.rounds(ctx, pool, func() {
		due, err := rc.DueForQuery(ctx, s.cfg.Clock(), QueryBatch)
		if err != nil {
			if ctx.Err() == nil {
				s.cfg.Log.Error("read the packages due for a status query", slog.Any("error", err))
			}
			return
		}
		for _, d := range due {
			s.ask(ctx, pool, rc, d)
		}
	})
}

// ask queries the outer about one delivered package and records the
// answer. A query cut short (the link, the outer gone, the sender
// stopping) records nothing but a later time to ask again.
func (s *Sender) ask(ctx context.Context, pool *Pool, rc Receipts, d Delivered) {
	log := s.cfg.Log.With(slog.Int64("outbox_id", d.ID), slog.String("sha256", hex.EncodeToString(d.SHA256[:])))
	rep, signed, key, err := func() (transfer.StatusReply, []byte, ed25519.PublicKey, error) {
		c, err := pool.get(ctx)
		if err != nil {
			return transfer.StatusReply{}, nil, nil, err
		}
		rep, signed, err := c.Query(ctx, d.SHA256)
		return rep, signed, c.OuterKey(), err
	}()
	now := s.cfg.Clock()
	bg := context.WithoutCancel(ctx)
	if err != nil {
		s.m.queries.WithLabelValues("failed").Inc()
		log.Info("status query not answered; asking again later", slog.Any("error", err))
		if err := rc.Unanswered(bg, d.ID, err, now.Add(s.cfg.QueryRetry)); err != nil {
			log.Error("record an unanswered status query", slog.Any("error", err))
		}
		return
	}
	s.m.queries.WithLabelValues(rep.State.String()).Inc()
	if err := rc.Answered(bg, d.ID, signed, key, NextQuery(now, d.DeliveredAt, d.ViewUntil, s.cfg.QueryEarly)); err != nil {
		log.Error("record the outer's status reply", slog.Any("error", err))
		return
	}
	switch rep.State {
	case transfer.StateDestroyed:
		log.Info("destruction receipt verified", slog.Time("destroyed_at", rep.DestroyedAt), slog.String("reason", rep.Reason.String()))
	case transfer.StateUnknown:
		log.Warn("the outer has no record of a package it received from us")
	}
}
