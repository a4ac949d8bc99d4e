// Package receive is the outer appliance's end of the transfer protocol
// (see package transfer): it accepts QUIC connections from paired inner
// appliances only, answers offers, resumes partial packages, and stores a
// package only once it is complete, hashed, verified and synced.
package receive

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
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

// Recorder is told of each stored package (the outer's database).
type Recorder interface {
	Stored(ctx context.Context, peer string, sum [32]byte, size int64, path string) error
}

// Config configures a Receiver.
type Config struct {
	Dir        string          // the package store: <sha256>.sgpkg, and incoming/ for partial ones
	Identity   tls.Certificate // the outer's transfer identity; its key signs replies
	Peers      map[string]Peer // by the fingerprint of their transfer key
	Streams    int64           // parallel packages per connection (default 8)
	MaxPackage int64           // largest package accepted (default 64 GiB)
	Quota      int64           // bytes the store may hold; 0: limited by the disk only
	Recorder   Recorder        // may be nil
	QUIC       *quic.Config    // nil: transfer.ServerQUIC
	Log        *slog.Logger
	Metrics    prometheus.Registerer // may be nil
}

// Receiver serves the transfer protocol.
type Receiver struct {
	cfg  Config
	m    *metrics
	key  ed25519.PrivateKey
	mu   sync.Mutex
	busy map[[32]byte]bool
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
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(filepath.Join(cfg.Dir, "incoming"), 0o700); err != nil {
		return nil, fmt.Errorf("receive: %w", err)
	}
	return &Receiver{cfg: cfg, m: newMetrics(cfg.Metrics), key: key, busy: map[[32]byte]bool{}}, nil
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
		log := r.cfg.Log.With("peer", peer.Name, "remote", conn.RemoteAddr().String())
		log.Info("inner appliance connected")
		wg.Go(func() {
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

func (r *Receiver) refuse(s *quic.Stream, peer string, sum [32]byte, reason transfer.Reason, log *slog.Logger) {
	r.m.refusals.WithLabelValues(peer, reason.String()).Inc()
	log.Warn("package refused", slog.String("sha256", hex.EncodeToString(sum[:])), slog.String("reason", reason.String()))
	r.reply(s, transfer.Reply{Status: transfer.Refused, Reason: reason, SHA256: sum})
	s.Close()
}

// handle runs one package's exchange on one stream.
func (r *Receiver) handle(ctx context.Context, peer Peer, s *quic.Stream, log *slog.Logger) {
	s.SetReadDeadline(time.Now().Add(30 * time.Second))
	offer, err := transfer.ReadOffer(s)
	if err != nil {
		log.Warn("bad offer", slog.Any("error", err))
		s.CancelRead(transfer.CodeProtocol)
		s.CancelWrite(transfer.CodeProtocol)
		return
	}
	s.SetReadDeadline(time.Time{})
	r.m.lastContact.WithLabelValues(peer.Name).SetToCurrentTime()
	sum, name := offer.SHA256, hex.EncodeToString(offer.SHA256[:])
	log = log.With(slog.String("sha256", name))
	final := filepath.Join(r.cfg.Dir, name+".sgpkg")
	if _, err := os.Stat(final); err == nil {
		r.reply(s, transfer.Reply{Status: transfer.Already, SHA256: sum})
		s.Close()
		return
	}
	if offer.Size > r.cfg.MaxPackage {
		r.refuse(s, peer.Name, sum, transfer.ReasonTooLarge, log)
		return
	}
	if !r.claim(sum) {
		r.refuse(s, peer.Name, sum, transfer.ReasonBusy, log)
		return
	}
	defer r.release(sum)
	partial := filepath.Join(r.cfg.Dir, "incoming", name+".partial")
	f, h, offset, err := openPartial(partial, offer.Size)
	if err != nil {
		log.Error("open partial package", slog.Any("error", err))
		r.refuse(s, peer.Name, sum, transfer.ReasonInternal, log)
		return
	}
	defer f.Close()
	if r.cfg.Quota > 0 && r.used()-offset+offer.Size > r.cfg.Quota {
		r.refuse(s, peer.Name, sum, transfer.ReasonQuota, log)
		return
	}
	if err := r.reply(s, transfer.Reply{Status: transfer.Continue, SHA256: sum, Offset: offset}); err != nil {
		return
	}
	if offset > 0 {
		r.m.resumes.WithLabelValues(peer.Name).Inc()
		log.Info("resuming package", slog.Int64("offset", offset), slog.Int64("size", offer.Size))
	}
	w := bufio.NewWriterSize(f, 1<<20)
	n, err := io.CopyN(io.MultiWriter(w, h), stalled{s}, offer.Size-offset)
	r.m.bytes.WithLabelValues(peer.Name).Add(float64(n))
	if ferr := w.Flush(); err == nil {
		err = ferr
	}
	syncErr := f.Sync() // keep what arrived, for the next offer to resume from
	if err == nil {
		err = syncErr
	}
	if errors.Is(err, syscall.ENOSPC) {
		f.Close()
		os.Remove(partial) // give the space back; the inner keeps the package queued
		r.refuse(s, peer.Name, sum, transfer.ReasonDiskFull, log)
		return
	}
	if err != nil {
		log.Info("package interrupted; kept for resuming", slog.Any("error", err))
		return
	}
	if n, _ := (stalled{s}).Read(make([]byte, 1)); n != 0 {
		log.Warn("more bytes than offered")
		s.CancelRead(transfer.CodeProtocol)
		r.discard(f, partial)
		r.refuse(s, peer.Name, sum, transfer.ReasonHashMismatch, log)
		return
	}
	if got := h.Sum(nil); string(got) != string(sum[:]) {
		r.discard(f, partial)
		r.refuse(s, peer.Name, sum, transfer.ReasonHashMismatch, log)
		return
	}
	if err := verify(f, peer.Signer); err != nil {
		log.Warn("package does not verify", slog.Any("error", err))
		r.discard(f, partial)
		r.refuse(s, peer.Name, sum, transfer.ReasonBadPackage, log)
		return
	}
	if err := store(partial, final); err != nil {
		log.Error("store package", slog.Any("error", err))
		r.refuse(s, peer.Name, sum, transfer.ReasonInternal, log)
		return
	}
	if r.cfg.Recorder != nil {
		if err := r.cfg.Recorder.Stored(ctx, peer.Name, sum, offer.Size, final); err != nil {
			// The file is in the store: the next offer gets Already and the
			// daemon reconciles the record at start.
			log.Error("record package", slog.Any("error", err))
			r.refuse(s, peer.Name, sum, transfer.ReasonInternal, log)
			return
		}
	}
	r.m.packages.WithLabelValues(peer.Name).Inc()
	log.Info("package stored", slog.Int64("size", offer.Size))
	r.reply(s, transfer.Reply{Status: transfer.Stored, SHA256: sum, Offset: offer.Size})
	s.Close()
}

// openPartial opens (or starts) the partial file and hashes what it holds.
func openPartial(path string, size int64) (*os.File, hash.Hash, int64, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, nil, 0, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, 0, err
	}
	offset := fi.Size()
	if offset >= size { // complete but not stored, or too long: start over
		if err := f.Truncate(0); err != nil {
			f.Close()
			return nil, nil, 0, err
		}
		offset = 0
	}
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(f, 0, offset)); err != nil {
		f.Close()
		return nil, nil, 0, err
	}
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		f.Close()
		return nil, nil, 0, err
	}
	return f, h, offset, nil
}

func verify(f *os.File, signer ed25519.PublicKey) error {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	_, err := seal.Verify(bufio.NewReaderSize(f, 1<<20), signer)
	return err
}

// store moves a verified partial file into the store, durably.
func store(partial, final string) error {
	if err := os.Rename(partial, final); err != nil {
		return err
	}
	for _, dir := range []string{filepath.Dir(final), filepath.Dir(partial)} {
		if d, err := os.Open(dir); err == nil {
			d.Sync()
			d.Close()
		}
	}
	return nil
}

func (r *Receiver) discard(f *os.File, path string) {
	f.Close()
	os.Remove(path)
}

func (r *Receiver) claim(sum [32]byte) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.busy[sum] {
		return false
	}
	r.busy[sum] = true
	return true
}

func (r *Receiver) release(sum [32]byte) {
	r.mu.Lock()
	delete(r.busy, sum)
	r.mu.Unlock()
}

// used is the bytes the store and its partial files hold.
func (r *Receiver) used() int64 {
	var n int64
	filepath.WalkDir(r.cfg.Dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.HasSuffix(path, ".sgpkg") || strings.HasSuffix(path, ".partial")) {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

// stalled reads a stream with a rolling deadline: keep-alives hold a
// connection open, so a sender that stops sending on a stream (but not
// pinging) must still give its stream back.
type stalled struct{ s *quic.Stream }

func (r stalled) Read(p []byte) (int, error) {
	r.s.SetReadDeadline(time.Now().Add(transfer.IdleTimeout))
	return r.s.Read(p)
}
