package send

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/quic-go/quic-go"
	"golang.org/x/time/rate"

	"sealgate/transfer"
)

// Config configures a Sender.
type Config struct {
	Addr             string // the outer's QUIC receiver
	OuterFingerprint string
	Identity         tls.Certificate
	Streams          int          // packages in flight at once
	Connections      int          // connections a package's lanes spread across (default DefaultConnections)
	BytesPerSecond   int64        // bandwidth cap; 0: none
	QUIC             *quic.Config // nil: transfer.ClientQUIC
	// ListenPacket opens the UDP socket the connections share; nil: any
	// local address.
	ListenPacket func() (net.PacketConn, error)
	Poll         time.Duration
	// QueryPoll is how often the delivered packages due for a status
	// query are looked for (default a minute); QueryRetry the wait after
	// a query that failed (default QueryRetry). Clock reads the time for
	// their schedule (default time.Now).
	QueryPoll  time.Duration
	QueryRetry time.Duration
	// QueryEarly is how often a package inside its viewing window is
	// asked about (default QueryEarly).
	QueryEarly time.Duration
	// Anchors, if set, has the inner's audit anchors pushed to the outer
	// and the outer's kept.
	Anchors Anchors
	Clock   func() time.Time
	Log     *slog.Logger
}

// Sender works through a Queue, keeping a pool of connections to the outer.
type Sender struct {
	cfg     Config
	q       Queue
	m       *metrics
	limiter *rate.Limiter
}

// New returns a Sender whose metrics are registered on reg.
func New(cfg Config, q Queue, reg prometheus.Registerer) *Sender {
	if cfg.Streams <= 0 {
		cfg.Streams = 4
	}
	if cfg.Connections <= 0 {
		cfg.Connections = DefaultConnections
	}
	if cfg.Poll <= 0 {
		cfg.Poll = time.Second
	}
	if cfg.QueryEarly <= 0 {
		cfg.QueryEarly = QueryEarly
	}
	if cfg.QueryPoll <= 0 {
		cfg.QueryPoll = min(time.Minute, cfg.QueryEarly/4)
	}
	if cfg.QueryRetry <= 0 {
		cfg.QueryRetry = QueryRetry
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.ListenPacket == nil {
		cfg.ListenPacket = func() (net.PacketConn, error) { return net.ListenUDP("udp", nil) }
	}
	s := &Sender{cfg: cfg, q: q, m: newMetrics(reg)}
	if cfg.BytesPerSecond > 0 {
		s.limiter = rate.NewLimiter(rate.Limit(cfg.BytesPerSecond), 1<<20)
	}
	return s
}

// Run sends queued packages until ctx ends. While the link is down nothing
// is claimed; when it returns, packages resume where the outer's copy ends.
func (s *Sender) Run(ctx context.Context) error {
	pc, err := s.cfg.ListenPacket()
	if err != nil {
		return fmt.Errorf("send: open UDP socket: %w", err)
	}
	tr := &quic.Transport{Conn: pc}
	defer tr.Close()
	prevLive := 0
	pool := NewPool(Target{Addr: s.cfg.Addr, Identity: s.cfg.Identity, OuterFingerprint: s.cfg.OuterFingerprint, QUIC: s.cfg.QUIC, Transport: tr},
		s.cfg.Connections, s.cfg.Log, func(live int) { // called under the pool's lock, one at a time
			if live > prevLive { // a handshake completed: the outer answered
				s.m.lastContact.SetToCurrentTime()
			}
			prevLive = live
			s.m.connections.Set(float64(live))
		})
	var wg sync.WaitGroup
	wg.Go(func() { pool.Run(ctx) })
	defer wg.Wait()

	slots := make(chan struct{}, s.cfg.Streams)
	var work sync.WaitGroup
	defer work.Wait()
	claims := &claimSet{ids: map[int64]bool{}}
	wg.Go(func() { s.touch(ctx, claims) })
	if rc, ok := s.q.(Receipts); ok {
		wg.Go(func() { s.receipts(ctx, pool, rc) })
	}
	if s.cfg.Anchors != nil {
		wg.Go(func() { s.anchors(ctx, pool, s.cfg.Anchors) })
	}
	tick := time.NewTicker(s.cfg.Poll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-pool.Ready():
		}
		select {
		case <-ctx.Done():
			return nil
		case slots <- struct{}{}:
		}
		// Claim without cancellation: a claim committed while ctx ends
		// would otherwise be lost and the package held until reclaimed.
		// A claimed package always reaches deliver, which requeues it
		// when ctx has ended.
		item, err := s.q.Next(context.WithoutCancel(ctx))
		if err != nil || item == nil {
			<-slots
			if err != nil {
				s.cfg.Log.Error("read outbox", slog.Any("error", err))
			}
			select {
			case <-ctx.Done():
				return nil
			case <-tick.C:
			}
			continue
		}
		claims.add(item.ID)
		work.Go(func() {
			defer func() { <-slots }()
			defer claims.remove(item.ID)
			s.deliver(ctx, pool, item)
		})
	}
}

// claimSet is the packages this sender is sending.
type claimSet struct {
	mu  sync.Mutex
	ids map[int64]bool
}

func (c *claimSet) add(id int64)    { c.mu.Lock(); c.ids[id] = true; c.mu.Unlock() }
func (c *claimSet) remove(id int64) { c.mu.Lock(); delete(c.ids, id); c.mu.Unlock() }

func (c *claimSet) list() []int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Collect(maps.Keys(c.ids))
}

// touch renews the claims every TouchEvery until ctx ends.
func (s *Sender) touch(ctx context.Context, claims *claimSet) {
	tick := time.NewTicker(TouchEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if ids := claims.list(); len(ids) > 0 {
			if err := s.q.Touch(ctx, ids); err != nil {
				s.cfg.Log.Error("renew outbox claims", slog.Any("error", err))
			}
		}
	}
}

func (s *Sender) deliver(ctx context.Context, pool *Pool, item *Item) {
	log := s.cfg.Log.With(slog.Int64("outbox_id", item.ID), slog.Int64("size", item.Package.Size))
	start := time.Now()
	res, err := pool.Send(ctx, item.Package, s.capped, s.m.retries.Inc)
	if err == nil {
		s.m.lastContact.SetToCurrentTime()
		s.m.duration.Observe(time.Since(start).Seconds())
		s.m.bytes.Add(float64(res.Sent))
		s.m.packages.WithLabelValues(statusName(res.Status)).Inc()
		if res.Resumed > 0 {
			s.m.resumes.Inc()
		}
		log.Info("package delivered", slog.Int64("sent", res.Sent), slog.Int64("resumed_from", res.Resumed), slog.Duration("took", time.Since(start)))
		if err := s.q.Delivered(context.WithoutCancel(ctx), item.ID, res); err != nil {
			log.Error("record delivery", slog.Any("error", err))
		}
		return
	}
	reason, refused := IsRefused(err)
	final := refused && !reason.Retryable()
	if refused {
		s.m.refusals.WithLabelValues(reason.String()).Inc()
	} else {
		s.m.retries.Inc()
	}
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		err = errors.New("sender stopped")
	}
	log.Warn("package not delivered", slog.Any("error", err), slog.Bool("final", final))
	backoff := refused && !final && reason != transfer.ReasonBusy // busy passes in seconds
	if err := s.q.Failed(context.WithoutCancel(ctx), item.ID, err, final, backoff); err != nil {
		log.Error("record failure", slog.Any("error", err))
	}
}

// capped applies the bandwidth cap to a stream's writes; a write waiting
// for its share ends with ctx, so a stopping sender is not held by the cap.
func (s *Sender) capped(ctx context.Context, w io.Writer) io.Writer {
	if s.limiter == nil {
		return w
	}
	return &limitedWriter{ctx: ctx, w: w, l: s.limiter}
}

type limitedWriter struct {
	ctx context.Context
	w   io.Writer
	l   *rate.Limiter
}

func (lw *limitedWriter) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		chunk := p[:min(len(p), lw.l.Burst())]
		if err := lw.l.WaitN(lw.ctx, len(chunk)); err != nil {
			return n, err
		}
		m, err := lw.w.Write(chunk)
		n += m
		if err != nil {
			return n, err
		}
		p = p[len(chunk):]
	}
	return n, nil
}

func statusName(s transfer.Status) string {
	if s == transfer.Already {
		return "already"
	}
	return "stored"
}
