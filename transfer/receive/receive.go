// Package receive is the outer appliance's end of the transfer protocol
// (see package transfer): it accepts QUIC connections from paired inner
// appliances only, answers offers, resumes partial packages, and stores a
// package only once it is complete, hashed, verified and synced.
package receive

import (
	"context"
	"crypto/ed25519"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/quic-go/quic-go"

	"sealgate/shared/seal"
	"sealgate/transfer"
)

// Peer is a paired inner appliance.
type Peer struct {
	Name   string
	Signer ed25519.PublicKey // its package signing key (signing.pub)
}

// Store keeps the packages received. The receiver does not know where or
// how: the outer's package store owns its directory (outer/pkgstore.Dir),
// and the receiver reaches it only through these methods.
type Store interface {
	// Has reports whether package sum is kept already.
	Has(sum [32]byte) bool
	// Incoming names the files a package arriving is written to: its bytes
	// at their final offsets, and the record of how far each lane has come.
	Incoming(sum [32]byte) (data, lanes string)
	// Keep moves a verified arrival, its bytes synced, into the store,
	// durably, and records it with its verified manifest. It may fail after the move (the record):
	// Has then reports the package kept, and the store reconciles its
	// record later.
	Keep(ctx context.Context, peer string, sum [32]byte, size int64, data string, m *seal.Manifest) error
	// Used is the bytes the store holds, arrivals included.
	Used() int64
	// Idle lists the arrivals whose files have not changed since before.
	Idle(before time.Time) ([][32]byte, error)
	// Free is the bytes free on the store's filesystem (-1: unknown).
	Free() int64
}

// DiskReserve is the free space an arrival may not eat into, whatever the
// quota: the outer's database, logs and the portal's players need it.
const DiskReserve = 1 << 30

// Config configures a Receiver.
type Config struct {
	Store      Store           // where packages are kept
	Identity   tls.Certificate // the outer's transfer identity; its key signs replies
	Peers      map[string]Peer // by the fingerprint of their transfer key
	Streams    int64           // parallel packages per connection (default 8)
	MaxPackage int64           // largest package accepted (default 64 GiB)
	Quota      int64           // bytes the store may hold; 0: limited by the disk only
	// PartialIdle is how long a partial package may wait for its sender
	// to resume it before it is removed (default 7 days).
	PartialIdle time.Duration
	// Records answers the inner's status queries (outer/pkgstore.Store);
	// nil: queries are not answered, and the inner asks again later.
	Records Records
	// Anchors keeps the inners' audit anchors (nil: pushes are refused,
	// and the inner pushes again later).
	Anchors Anchors
	QUIC    *quic.Config // nil: transfer.ServerQUIC
	Log     *slog.Logger
	Metrics prometheus.Registerer // may be nil
}

// Receiver serves the transfer protocol.
type Receiver struct {
	cfg      Config
	m        *metrics
	key      ed25519.PrivateKey
	mu       sync.Mutex
	partials map[[32]byte]*partial // packages arriving now
}

// New checks cfg and prepares the store's directories.
func New(cfg Config) (*Receiver, error) {
	key, ok := cfg.Identity.PrivateKey.(ed25519.PrivateKey)
	if !ok {
		return nil, errors.New("receive: transfer identity is not an Ed25519 key")
	}
	if cfg.Streams <= 0 {
		cfg.Streams = 8
	}
	if cfg.MaxPackage <= 0 {
		cfg.MaxPackage = 64 << 30
	}
	if cfg.QUIC == nil {
		cfg.QUIC = transfer.ServerQUIC(cfg.Streams)
	}
	if cfg.PartialIdle <= 0 {
		cfg.PartialIdle = 7 * 24 * time.Hour
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Store == nil {
		return nil, errors.New("receive: no store to keep packages in")
	}
	m := newMetrics(cfg.Metrics)
	for _, p := range cfg.Peers {
		m.peer(p.Name)
	}
	return &Receiver{cfg: cfg, m: m, key: key, partials: map[[32]byte]*partial{}}, nil
}

// Serve accepts connections on pc until ctx ends.
func (r *Receiver) Serve(ctx context.Context, pc net.PacketConn) error {
	tlsConf := transfer.ServerTLS(r.cfg.Identity, func(fp string) bool { _, ok := r.cfg.Peers[fp]; return ok })
	ln, err := quic.Listen(pc, tlsConf, r.cfg.QUIC)
	if err != nil {
		return fmt.Errorf("receive: listen: %w", err)
	}
	defer ln.Close()
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() { r.sweep(ctx) })
	for {
		conn, err := ln.Accept(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("receive: accept: %w", err)
		}
		_, fp, err := transfer.PeerKey(conn.ConnectionState().TLS)
		peer, ok := r.cfg.Peers[fp]
		if err != nil || !ok {
			conn.CloseWithError(transfer.CodeUnpaired, "not paired")
			continue
		}
		log := r.cfg.Log.With(slog.String("peer", peer.Name), slog.String("remote", conn.RemoteAddr().String()))
		log.Info("inner appliance connected")
		r.m.connected(peer.Name)
		wg.Go(func() {
			defer r.m.connections.WithLabelValues(peer.Name).Dec()
			defer conn.CloseWithError(transfer.CodeOK, "")
			for {
				s, err := conn.AcceptStream(ctx)
				if err != nil {
					log.Info("connection ended", slog.Any("reason", err))
					return
				}
				wg.Go(func() { r.handle(ctx, peer, s, log) })
			}
		})
	}
}

func (r *Receiver) reply(s *quic.Stream, rep transfer.Reply) error {
	_, err := s.Write(rep.Sign(r.key))
	return err
}

func (r *Receiver) refuse(s *quic.Stream, peer string, o transfer.Offer, reason transfer.Reason, log *slog.Logger) {
	r.m.refusals.WithLabelValues(peer, reason.String()).Inc()
	log.Warn("package refused", slog.String("reason", reason.String()), slog.Int("lane", o.Lane))
	r.reply(s, transfer.Reply{Status: transfer.Refused, Reason: reason, SHA256: o.SHA256, Lane: o.Lane})
	s.Close()
}

// checkpointEvery is how many bytes a lane receives between syncs; a crash
// costs at most this much of each lane.
const checkpointEvery = 16 << 20

var (
	errQuota   = errors.New("receive: quota full")
	errReserve = errors.New("receive: the disk's reserve would be used")
	errTooLong = errors.New("receive: more bytes than the lane holds")
)

// handle runs one lane's exchange on one stream.
func (r *Receiver) handle(ctx context.Context, peer Peer, s *quic.Stream, log *slog.Logger) {
	// A stream counts against the inner's stream limit until both of its
	// sides are done: stop reading whatever the inner still sends after
	// an early answer, or the limit runs out.
	defer s.CancelRead(transfer.CodeOK)
	s.SetReadDeadline(time.Now().Add(transfer.IdleTimeout))
	req, err := transfer.ReadRequest(s)
	if err != nil {
		log.Warn("bad offer", slog.Any("error", err))
		s.CancelRead(transfer.CodeProtocol)
		s.CancelWrite(transfer.CodeProtocol)
		return
	}
	s.SetReadDeadline(time.Time{})
	r.m.lastContact.WithLabelValues(peer.Name).SetToCurrentTime()
	if req.Query != nil {
		r.answer(ctx, peer, s, *req.Query, log)
		return
	}
	if req.Anchor != nil {
		r.keepAnchor(ctx, peer, s, *req.Anchor, log)
		return
	}
	o := *req.Offer
	name := hex.EncodeToString(o.SHA256[:])
	log = log.With(slog.String("sha256", name))
	if r.cfg.Store.Has(o.SHA256) {
		r.forget(o.SHA256)
		r.reply(s, transfer.Reply{Status: transfer.Already, SHA256: o.SHA256, Lane: o.Lane})
		s.Close()
		return
	}
	if o.Size > r.cfg.MaxPackage {
		r.refuse(s, peer.Name, o, transfer.ReasonTooLarge, log)
		return
	}
	p, err := r.acquire(o, peer)
	switch {
	case errors.Is(err, errQuota):
		r.refuse(s, peer.Name, o, transfer.ReasonQuota, log)
		return
	case errors.Is(err, errReserve):
		r.refuse(s, peer.Name, o, transfer.ReasonDiskFull, log)
		return
	case errors.Is(err, syscall.ENOSPC):
		r.refuse(s, peer.Name, o, transfer.ReasonDiskFull, log)
		return
	case errors.Is(err, errBusy):
		r.refuse(s, peer.Name, o, transfer.ReasonBusy, log)
		return
	case err != nil:
		log.Error("open partial package", slog.Any("error", err))
		r.refuse(s, peer.Name, o, transfer.ReasonInternal, log)
		return
	}
	defer r.release(p)
	me, off, err := p.take(o.Lane, peer.Name, func() { s.CancelRead(transfer.CodeReplaced) })
	if err != nil {
		r.refuse(s, peer.Name, o, transfer.ReasonBusy, log)
		return
	}
	start, end := o.Range()
	if off < end {
		if err := r.reply(s, transfer.Reply{Status: transfer.Continue, SHA256: o.SHA256, Lane: o.Lane, Offset: off}); err != nil {
			p.let(me)
			return
		}
		if off > start {
			r.m.resumes.WithLabelValues(peer.Name).Inc()
			log.Info("resuming lane", slog.Int("lane", o.Lane), slog.Int64("offset", off))
		}
		err = r.receiveLane(s, p, o.Lane, off, end, peer.Name)
	}
	p.let(me)
	switch {
	case errors.Is(err, syscall.ENOSPC):
		p.discard() // give the space back; the inner keeps the package queued
		r.refuse(s, peer.Name, o, transfer.ReasonDiskFull, log)
		return
	case errors.Is(err, errTooLong):
		log.Warn("more bytes than offered", slog.Int("lane", o.Lane))
		s.CancelRead(transfer.CodeProtocol)
		r.refuse(s, peer.Name, o, transfer.ReasonHashMismatch, log)
		return
	case errors.Is(err, errPartialGone):
		r.refuse(s, peer.Name, o, transfer.ReasonHashMismatch, log)
		return
	case err != nil:
		log.Info("lane interrupted; kept for resuming", slog.Int("lane", o.Lane), slog.Any("error", err))
		return
	}
	r.finish(ctx, s, peer, p, o, log)
}

// receiveLane writes the lane's bytes from off to end at their place,
// recording progress as it goes and when interrupted.
func (r *Receiver) receiveLane(s *quic.Stream, p *partial, lane int, off, end int64, peer string) error {
	bp := laneBufs.Get().(*[]byte)
	defer laneBufs.Put(bp)
	buf := *bp
	src := stalled{s}
	var unsynced int64
	for off < end {
		n, err := io.ReadFull(src, buf[:min(int64(len(buf)), end-off)])
		if n > 0 {
			if _, werr := p.f.WriteAt(buf[:n], off); werr != nil {
				return werr
			}
			off += int64(n)
			unsynced += int64(n)
			r.m.bytes.WithLabelValues(peer).Add(float64(n))
		}
		if err != nil { // keep what arrived, for the next offer to resume from
			return errors.Join(err, p.checkpoint(lane, off))
		}
		if unsynced >= checkpointEvery || off == end {
			if err := p.checkpoint(lane, off); err != nil {
				return err
			}
			unsynced = 0
		}
	}
	if n, _ := src.Read(buf[:1]); n != 0 {
		return errTooLong
	}
	return nil
}

// laneBufs are the lanes' receive buffers: a package brings hundreds of
// lanes, and fresh buffers each would keep the collector busy. Hundreds
// of lanes may arrive at once: 256 KiB each keeps that to tens of MiB.
var laneBufs = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

// finish answers a lane whose bytes are all in: Held while other lanes are
// missing; once the package is complete, the stream that completed it
// verifies, stores and records it and sends the receipt.
func (r *Receiver) finish(ctx context.Context, s *quic.Stream, peer Peer, p *partial, o transfer.Offer, log *slog.Logger) {
	_, end := o.Range()
	if !p.complete() {
		r.reply(s, transfer.Reply{Status: transfer.Held, SHA256: o.SHA256, Lane: o.Lane, Offset: end})
		s.Close()
		return
	}
	p.finish.Lock()
	defer p.finish.Unlock()
	if r.cfg.Store.Has(o.SHA256) {
		r.reply(s, transfer.Reply{Status: transfer.Already, SHA256: o.SHA256, Lane: o.Lane})
		s.Close()
		return
	}
	switch err := p.verdict(); {
	case errors.Is(err, errUnread):
		// Not the package's fault: keep it for the next offer to finish.
		log.Error("read partial package", slog.Any("error", err))
		r.refuse(s, peer.Name, o, transfer.ReasonInternal, log)
		return
	case err != nil:
		log.Warn("package does not verify", slog.Any("error", err))
		p.discard()
		reason := transfer.ReasonBadPackage
		if errors.Is(err, errHash) {
			reason = transfer.ReasonHashMismatch
		}
		r.refuse(s, peer.Name, o, reason, log)
		return
	}
	if err := p.f.Sync(); err != nil {
		log.Error("sync package", slog.Any("error", err))
		r.refuse(s, peer.Name, o, transfer.ReasonInternal, log)
		return
	}
	keep := func(data string) error { return r.cfg.Store.Keep(ctx, peer.Name, o.SHA256, o.Size, data, p.manifest) }
	if err := p.store(keep, func() bool { return r.cfg.Store.Has(o.SHA256) }); err != nil {
		// A package whose file is kept but not recorded gets Already at the
		// next offer, and the daemon reconciles the record at start.
		log.Error("store package", slog.Any("error", err))
		r.refuse(s, peer.Name, o, transfer.ReasonInternal, log)
		return
	}
	r.m.packages.WithLabelValues(peer.Name).Inc()
	log.Info("package stored", slog.Int64("size", o.Size), slog.Int("lanes", o.Lanes))
	r.reply(s, transfer.Reply{Status: transfer.Stored, SHA256: o.SHA256, Lane: o.Lane, Offset: o.Size})
	s.Close()
}

var errHash = errors.New("receive: package does not hash to its offer")

// acquire opens the partial package the offer belongs to, shared by the
// streams of its lanes from the one inner it arrives from: it is verified
// against that inner's key and, once kept, recorded as that inner's; an
// offer of the same package by another inner waits (busy) until then.
func (r *Receiver) acquire(o transfer.Offer, peer Peer) (*partial, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if p := r.partials[o.SHA256]; p != nil {
		p.mu.Lock()
		same, gone := p.size == o.Size && p.lanes == o.Lanes && p.peer == peer.Name, p.rec == nil || p.done
		p.mu.Unlock()
		switch {
		case same && !gone:
			p.refs++
			return p, nil
		case !gone:
			return nil, errBusy // another layout is still arriving
		}
	}
	path, lanes := r.cfg.Store.Incoming(o.SHA256)
	var have int64
	if fi, err := os.Stat(path); err == nil {
		have = fi.Size()
	}
	if r.cfg.Quota > 0 && r.cfg.Store.Used()-have+o.Size > r.cfg.Quota {
		return nil, errQuota
	}
	if free := r.cfg.Store.Free(); free >= 0 && free-(o.Size-have) < DiskReserve {
		return nil, errReserve
	}
	p, err := openPartial(path, lanes, o)
	if err != nil {
		return nil, err
	}
	p.refs, p.peer = 1, peer.Name
	r.partials[o.SHA256] = p
	go p.verify(peer.Signer)
	return p, nil
}

// ExpirePartials removes the partial packages no sender has added to for
// PartialIdle (their space counts against the quota), except those
// arriving now. It returns how many it removed.
func (r *Receiver) ExpirePartials(now time.Time) (int, error) {
	idle, err := r.cfg.Store.Idle(now.Add(-r.cfg.PartialIdle))
	if err != nil {
		return 0, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, sum := range idle {
		if r.partials[sum] != nil {
			continue
		}
		data, lanes := r.cfg.Store.Incoming(sum)
		var size int64
		if fi, err := os.Stat(data); err == nil {
			size = fi.Size()
		}
		if err := errors.Join(removeIfThere(data), removeIfThere(lanes)); err != nil {
			return n, fmt.Errorf("receive: remove an abandoned partial package: %w", err)
		}
		r.cfg.Log.Info("abandoned partial package removed", slog.String("sha256", fmt.Sprintf("%x", sum)), slog.Int64("bytes", size),
			slog.Duration("idle_for", r.cfg.PartialIdle))
		n++
	}
	return n, nil
}

// sweep expires abandoned partials at start and hourly until ctx ends.
func (r *Receiver) sweep(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if _, err := r.ExpirePartials(time.Now()); err != nil {
			r.cfg.Log.Warn("expire partial packages", slog.Any("error", err))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func removeIfThere(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// forget removes what an arrival of a package already kept left in
// incoming/ (its lane record, when the daemon died between keeping the
// package and removing it), unless the package is arriving now. A partial
// already stored but not yet released (its last stream is still closing)
// is not arriving: its record is gone, and a stale one may be removed.
func (r *Receiver) forget(sum [32]byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if p := r.partials[sum]; p != nil {
		p.mu.Lock()
		done := p.done
		p.mu.Unlock()
		if !done {
			return
		}
	}
	data, lanes := r.cfg.Store.Incoming(sum)
	os.Remove(data)
	os.Remove(lanes)
}

func (r *Receiver) release(p *partial) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if p.refs--; p.refs > 0 {
		return
	}
	p.mu.Lock()
	p.close()
	p.closeRecord()
	p.mu.Unlock()
	<-p.verified // it reads p.f
	p.f.Close()
	if r.partials[p.sum] == p {
		delete(r.partials, p.sum)
	}
}

// stalled reads a stream with a rolling deadline: keep-alives hold a
// connection open, so a sender that stops sending on a stream (but not
// pinging) must still give its stream back.
type stalled struct{ s *quic.Stream }

func (r stalled) Read(p []byte) (int, error) {
	r.s.SetReadDeadline(time.Now().Add(transfer.IdleTimeout))
	return r.s.Read(p)
}
