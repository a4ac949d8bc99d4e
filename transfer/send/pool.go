package send

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"sync"
	"time"

	"sealgate/transfer"
)

// Pool keeps several connections to the outer and splits each package into
// lanes across them. quic-go has only loss-based congestion control, under
// which one connection on a lossy wide-area link runs at a fraction of the
// link (about 0.6 MB/s at 1 % loss and 40 ms RTT); n connections run n
// times as fast, as TCP's parallel streams do.
//
// It also brings the link back fast. QUIC notices a dead path only at its
// idle timeout and, after an outage, retries on a backoff that leaves a
// healed link unused for seconds. The pool instead watches each
// connection's progress: when every busy connection has stalled, it dials
// a fresh connection every [ProbeEvery]; the first handshake that completes
// proves the path works again, and the stalled connections are closed so
// their lanes resume at once on fresh ones, from where the outer's copy
// ends.
type Pool struct {
	target  Target
	size    int
	log     *slog.Logger
	onConns func(live int)

	mu      sync.Mutex
	conns   []*Conn
	dialing int
	changed chan struct{} // closed and replaced whenever conns changes
}

// Timing of the pool's watch over its connections.
const (
	ProbeEvery = 250 * time.Millisecond // a fresh handshake this often while the link is down
	StallAfter = 2 * time.Second        // a wait this long without progress marks a connection stalled
	probeLimit = 2 * time.Second        // one probe's handshake time
	linkWait   = 20 * time.Second       // a lane waits this long for a connection, then the package is requeued
	// DefaultConnections is the pool's size unless configured: at 1 %
	// loss and 40 ms RTT, 64 connections move about 24 MB/s where TCP
	// with BBR moves 31 (make bench).
	DefaultConnections = 64
	// shortPath is the round-trip time under which a path counts as short,
	// and shortPathLanes the lanes in flight at once on it.
	shortPath      = 10 * time.Millisecond
	shortPathLanes = 16
	// LaneMin is the smallest lane: a package smaller than two of them
	// goes on one stream.
	LaneMin = 1 << 20
)

// NewPool returns a pool of size connections to t; Run maintains them.
// onConns, if set, is told the number of live connections whenever it
// changes (under the pool's lock: keep it short).
func NewPool(t Target, size int, log *slog.Logger, onConns func(live int)) *Pool {
	if size <= 0 {
		size = 1
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Pool{target: t, size: size, log: log, onConns: onConns, changed: make(chan struct{})}
}

// Run keeps the pool's connections up until ctx ends, then closes them.
func (p *Pool) Run(ctx context.Context) {
	tick := time.NewTicker(ProbeEvery)
	defer tick.Stop()
	failures := 0
	results := make(chan error, 64)
	p.tend(ctx, results)
	for {
		select {
		case <-ctx.Done():
			p.mu.Lock()
			for _, c := range p.conns {
				c.q.CloseWithError(transfer.CodeShuttingOff, "")
			}
			p.conns = nil
			p.signal()
			p.mu.Unlock()
			return
		case err := <-results: // counted only: dialling again waits for the tick
			p.mu.Lock()
			up := len(p.conns) > 0
			p.mu.Unlock()
			if err == nil || up { // a probe that lost the race to a live connection is no news
				failures = 0
			} else if failures++; failures == 1 || failures%240 == 0 {
				p.log.Warn("cannot reach the outer appliance", slog.Any("error", err), slog.Int("attempts", failures))
			}
		case <-tick.C:
			p.tend(ctx, results)
		}
	}
}

// tend drops ended connections, replaces stalled ones once the path is
// proven, and dials what is missing.
func (p *Pool) tend(ctx context.Context, results chan<- error) {
	now := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	live := p.conns[:0:0]
	var stalled []*Conn
	proven := false
	for _, c := range p.conns {
		select {
		case <-c.Done():
			continue
		default:
		}
		live = append(live, c)
		switch {
		case c.stalled(now, StallAfter):
			stalled = append(stalled, c)
		case c.alive(now, StallAfter):
			proven = true
		}
	}
	if len(stalled) > 0 && proven {
		for _, c := range stalled {
			p.log.Info("connection stalled while the path works; replacing it", slog.Int("lanes", int(c.lanes.Load())))
			c.q.CloseWithError(transfer.CodeStalled, "stalled")
		}
		live = slices.DeleteFunc(live, func(c *Conn) bool { return slices.Contains(stalled, c) })
	}
	if len(live) != len(p.conns) {
		p.conns = live
		p.signal()
	}
	want := p.size - len(p.conns) - p.dialing
	if len(p.conns) == 0 || (len(stalled) > 0 && !proven) {
		// The link looks down: one probe per tick (each lives probeLimit),
		// whose Initial packets find the link within a tick of its return.
		want = 0
		if p.dialing < int(probeLimit/ProbeEvery) {
			want = 1
		}
	}
	for range max(want, 0) {
		p.dialing++
		go func() {
			dctx, cancel := context.WithTimeout(ctx, probeLimit)
			c, err := p.target.Dial(dctx)
			cancel()
			p.mu.Lock()
			p.dialing--
			if err == nil {
				if ctx.Err() != nil {
					c.q.CloseWithError(transfer.CodeShuttingOff, "")
				} else {
					if len(p.conns) == 0 {
						p.log.Info("connected to the outer appliance", slog.String("addr", p.target.Addr))
					}
					p.conns = append(p.conns, c)
					p.signal()
				}
			}
			p.mu.Unlock()
			select {
			case results <- err:
			default:
			}
			if err == nil {
				p.tendSoon(ctx, results)
			}
		}()
	}
}

// tendSoon tends at once rather than at the next tick: a probe that
// succeeded frees the stalled lanes now.
func (p *Pool) tendSoon(ctx context.Context, results chan<- error) {
	if ctx.Err() == nil {
		p.tend(ctx, results)
	}
}

// signal wakes lanes waiting for a connection; the caller holds mu.
func (p *Pool) signal() {
	if p.onConns != nil {
		p.onConns(len(p.conns))
	}
	close(p.changed)
	p.changed = make(chan struct{})
}

// Ready returns a channel closed once the pool has a connection (at once
// if it has one now).
func (p *Pool) Ready() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.conns) > 0 {
		done := make(chan struct{})
		close(done)
		return done
	}
	return p.changed
}

// get returns the connection with the fewest lanes, waiting for one (up to
// linkWait) when there is none. While connections are still being dialled
// it gives a fresh one a moment to arrive rather than crowd a busy one: a
// connection's congestion window is shared by all its lanes.
func (p *Pool) get(ctx context.Context) (*Conn, error) {
	giveUp := time.After(linkWait)
	spread := time.After(200 * time.Millisecond)
	spreadOver := false
	for {
		p.mu.Lock()
		var best *Conn
		for _, c := range p.conns {
			if best == nil || c.lanes.Load() < best.lanes.Load() {
				best = c
			}
		}
		filling := p.dialing > 0 && len(p.conns) < p.size
		changed := p.changed
		p.mu.Unlock()
		if best != nil && (best.lanes.Load() == 0 || !filling || spreadOver) {
			return best, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-giveUp:
			return nil, errNoLink
		case <-changed:
		case <-spread:
			spreadOver = true
		}
	}
}

var errNoLink = errors.New("send: no connection to the outer appliance")

// parallel is how many lanes of a package go at once. Across a wide-area
// path every connection counts: after a loss a connection needs many round
// trips to grow its window back. On a short path (a LAN, loopback) it
// regrows in milliseconds, a few connections fill the link, and more only
// cost CPU.
func (p *Pool) parallel() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	var rtts []time.Duration
	for _, c := range p.conns {
		rtts = append(rtts, c.q.ConnectionStats().SmoothedRTT)
	}
	if len(rtts) > 0 {
		slices.Sort(rtts)
		if rtts[len(rtts)/2] < shortPath {
			return min(p.size, shortPathLanes)
		}
	}
	return p.size
}

// Lanes is how many lanes a package of size bytes is split into: about
// one per MiB, so that connections that finish early take more lanes and
// a slow one holds up the package by one short lane at most.
func Lanes(size int64) int {
	return int(max(1, min(size/LaneMin, transfer.MaxLanes)))
}

// Send delivers a package, its lanes spread across the pool's connections,
// as many in flight at once as the pool has connections. A lane whose
// connection fails is offered again on another and resumes where the
// outer's copy of it ends. write, if set, wraps each stream's writer (the
// bandwidth cap); retry, if set, counts each lane sent again.
func (p *Pool) Send(ctx context.Context, pkg Package, write func(context.Context, io.Writer) io.Writer, retry func()) (Result, error) {
	lanes := Lanes(pkg.Size)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	next := make(chan int, lanes)
	for lane := range lanes {
		next <- lane
	}
	close(next)
	var (
		mu       sync.Mutex
		res      Result
		firstErr error
		wg       sync.WaitGroup
	)
	for range min(lanes, p.parallel()) {
		wg.Go(func() {
			for lane := range next {
				lr, err := p.sendLane(ctx, pkg, lanes, lane, write, retry)
				mu.Lock()
				res.Resumed += lr.Resumed
				res.Sent += lr.Sent
				switch {
				case err != nil && firstErr == nil:
					firstErr = err
					cancel() // one lane refused or lost: the package is retried as a whole, each lane resuming
				case lr.Status == transfer.Stored:
					res.Status, res.Receipt = transfer.Stored, lr.Receipt
				case lr.Status == transfer.Already && res.Status == 0:
					res.Status, res.Receipt = transfer.Already, lr.Receipt
				}
				mu.Unlock()
				if err != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return Result{}, firstErr
	}
	if res.Status == 0 {
		// Every lane is held but the receipt went missing (the stream
		// that completed the package was lost): asking for any lane again
		// makes the outer finish the package and answer.
		lr, err := p.sendLane(ctx, pkg, lanes, 0, write, retry)
		if err != nil {
			return Result{}, err
		}
		if lr.Status != transfer.Stored && lr.Status != transfer.Already {
			return Result{}, errors.New("send: outer holds every lane but sent no receipt")
		}
		res.Status, res.Receipt = lr.Status, lr.Receipt
	}
	return res, nil
}

// sendLane delivers one lane, moving it to another connection when its
// connection fails or stalls.
func (p *Pool) sendLane(ctx context.Context, pkg Package, lanes, lane int, write func(context.Context, io.Writer) io.Writer, retry func()) (LaneResult, error) {
	var total LaneResult
	for attempt := 0; ; attempt++ {
		c, err := p.get(ctx)
		if err != nil {
			return total, err
		}
		lr, err := c.SendLane(ctx, pkg, lanes, lane, write)
		if attempt == 0 {
			total.Resumed = lr.Resumed
		}
		total.Sent += lr.Sent
		total.Status, total.Receipt = lr.Status, lr.Receipt
		if err == nil {
			return total, nil
		}
		reason, refused := IsRefused(err)
		switch {
		case ctx.Err() != nil, errors.Is(err, transfer.ErrProtocol), refused && reason != transfer.ReasonBusy, attempt >= 20:
			return total, err
		case refused: // busy: the outer is letting an older stream of this lane go
			time.Sleep(100 * time.Millisecond)
		}
		if retry != nil {
			retry()
		}
	}
}
