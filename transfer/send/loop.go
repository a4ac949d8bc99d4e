package send

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
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
	BytesPerSecond   int64        // bandwidth cap; 0: none
	QUIC             *quic.Config // nil: transfer.ClientQUIC
	Poll             time.Duration
	Log              *slog.Logger
}

// Sender works through a Queue, keeping one connection to the outer.
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
	if cfg.Poll <= 0 {
		cfg.Poll = time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	s := &Sender{cfg: cfg, q: q, m: newMetrics(reg)}
	if cfg.BytesPerSecond > 0 {
		s.limiter = rate.NewLimiter(rate.Limit(cfg.BytesPerSecond), 1<<20)
	}
	return s
}

// Run sends queued packages until ctx ends, reconnecting with backoff when
// the link is down; packages then resume where the outer's copy ends.
func (s *Sender) Run(ctx context.Context) error {
	failures := 0
	for ctx.Err() == nil {
		// Each attempt lasts a few seconds and the next follows at once, so
		// the sender is back within about a second of the link returning;
		// a handshake attempt a second costs the network nothing.
		dctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		conn, err := Dial(dctx, s.cfg.Addr, s.cfg.Identity, s.cfg.OuterFingerprint, s.cfg.QUIC)
		cancel()
		if err != nil {
			if failures++; failures == 1 || failures%60 == 0 {
				s.cfg.Log.Warn("cannot reach the outer appliance", slog.Any("error", err), slog.Int("attempts", failures))
			}
			select {
			case <-ctx.Done():
			case <-time.After(250 * time.Millisecond):
			}
			continue
		}
		failures = 0
		s.m.lastContact.SetToCurrentTime()
		s.cfg.Log.Info("connected to the outer appliance", slog.String("addr", s.cfg.Addr))
		s.serve(ctx, conn)
		conn.Close()
	}
	return nil
}

// serve sends packages on conn until it ends or ctx does.
func (s *Sender) serve(ctx context.Context, conn *Conn) {
	slots := make(chan struct{}, s.cfg.Streams)
	var wg sync.WaitGroup
	defer wg.Wait()
	tick := time.NewTicker(s.cfg.Poll)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-conn.Done():
			s.cfg.Log.Warn("connection to the outer appliance ended; reconnecting")
			return
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
				return
			case <-conn.Done():
				return
			case <-tick.C:
			}
			continue
		}
		wg.Go(func() {
			defer func() { <-slots }()
			s.deliver(ctx, conn, item)
		})
	}
}

func (s *Sender) deliver(ctx context.Context, conn *Conn, item *Item) {
	log := s.cfg.Log.With(slog.Int64("outbox_id", item.ID), slog.Int64("size", item.Package.Size))
	start := time.Now()
	res, err := conn.Send(ctx, item.Package, s.capped)
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

// capped applies the bandwidth cap to a stream's writes.
func (s *Sender) capped(w io.Writer) io.Writer {
	if s.limiter == nil {
		return w
	}
	return &limitedWriter{w: w, l: s.limiter}
}

type limitedWriter struct {
	w io.Writer
	l *rate.Limiter
}

func (lw *limitedWriter) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		chunk := p[:min(len(p), lw.l.Burst())]
		if err := lw.l.WaitN(context.Background(), len(chunk)); err != nil {
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
