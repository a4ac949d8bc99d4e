// Package send is the inner appliance's end of the transfer protocol (see
// package transfer): it dials the paired outer appliance and pushes sealed
// packages, one stream each, resuming from what the outer already holds.
package send

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/quic-go/quic-go"

	"sealgate/transfer"
)

// Target is the paired outer appliance and how to reach it.
type Target struct {
	Addr             string // the outer's QUIC receiver, host:port
	Identity         tls.Certificate
	OuterFingerprint string
	QUIC             *quic.Config    // nil: transfer.ClientQUIC
	Transport        *quic.Transport // shared UDP socket; nil: one per connection
}

// Conn is a connection to the outer appliance. It watches its own
// progress, so a pool can tell a connection stuck on a dead path (which
// QUIC would only notice at its idle timeout) from a slow one.
type Conn struct {
	q        *quic.Conn
	outerKey ed25519.PublicKey // signs the outer's replies; pinned in the handshake
	born     time.Time
	lanes    atomic.Int32 // lanes in flight on it
	waiting  atomic.Int32 // writes and replies being waited for
	since    atomic.Int64 // unix ns: when the current wait began, or the last one ended
	moved    atomic.Int64 // unix ns: when a wait last ended with progress
}

// Dial connects to the outer, accepting only the outer whose transfer key
// has the pinned fingerprint.
func (t Target) Dial(ctx context.Context) (*Conn, error) {
	qc := t.QUIC
	if qc == nil {
		qc = transfer.ClientQUIC()
	}
	tlsConf := transfer.ClientTLS(t.Identity, t.OuterFingerprint)
	var q *quic.Conn
	var err error
	if t.Transport != nil {
		var addr *net.UDPAddr
		if addr, err = net.ResolveUDPAddr("udp", t.Addr); err == nil {
			q, err = t.Transport.Dial(ctx, addr, tlsConf, qc)
		}
	} else {
		q, err = quic.DialAddr(ctx, t.Addr, tlsConf, qc)
	}
	if err != nil {
		return nil, fmt.Errorf("send: dial %s: %w", t.Addr, err)
	}
	key, _, err := transfer.PeerKey(q.ConnectionState().TLS)
	if err != nil {
		q.CloseWithError(transfer.CodeUnpaired, "")
		return nil, err
	}
	now := time.Now()
	c := &Conn{q: q, outerKey: key, born: now}
	c.since.Store(now.UnixNano())
	c.moved.Store(now.UnixNano())
	return c, nil
}

// Dial connects to the outer at addr with the inner's identity; quicConf
// nil means transfer.ClientQUIC.
func Dial(ctx context.Context, addr string, identity tls.Certificate, outerFingerprint string, quicConf *quic.Config) (*Conn, error) {
	return Target{Addr: addr, Identity: identity, OuterFingerprint: outerFingerprint, QUIC: quicConf}.Dial(ctx)
}

// Close ends the connection.
func (c *Conn) Close() error { return c.q.CloseWithError(transfer.CodeOK, "") }

// Done is closed when the connection has ended (idle timeout, peer gone).
func (c *Conn) Done() <-chan struct{} { return c.q.Context().Done() }

// wait marks a wait for the network (a write, a reply) as begun; the
// returned func ends it, with progress or not.
func (c *Conn) wait() func(moved bool) {
	now := time.Now().UnixNano()
	if c.waiting.Add(1) == 1 {
		c.since.Store(now)
	}
	return func(moved bool) {
		now := time.Now().UnixNano()
		if moved {
			c.moved.Store(now)
			c.since.Store(now)
		}
		c.waiting.Add(-1)
	}
}

// stalled reports whether the connection has waited longer than d without
// moving a byte.
func (c *Conn) stalled(now time.Time, d time.Duration) bool {
	return c.waiting.Load() > 0 && now.UnixNano()-c.since.Load() > int64(d)
}

// alive reports whether the connection proved the path works within d:
// it moved bytes, or its handshake completed.
func (c *Conn) alive(now time.Time, d time.Duration) bool {
	return !c.stalled(now, d) && (now.Sub(c.born) < d || now.UnixNano()-c.moved.Load() < int64(d))
}

// watched counts a stream's writes as the connection's waits.
type watched struct {
	c *Conn
	s *quic.Stream
}

func (w watched) Write(p []byte) (int, error) {
	end := w.c.wait()
	n, err := w.s.Write(p)
	end(n > 0)
	return n, err
}

// Result is how a package's delivery ended.
type Result struct {
	Status  transfer.Status // Stored or Already
	Resumed int64           // bytes the outer already held
	Sent    int64           // bytes sent on this stream
	// Receipt is the outer's signed reply that it holds the package
	// (transfer.ReplySize bytes; transfer.ParseReply verifies it).
	Receipt []byte
}

// RefusedError is the outer's refusal of a package.
type RefusedError struct{ Reason transfer.Reason }

func (e *RefusedError) Error() string { return "send: outer refused the package: " + e.Reason.String() }

// Package describes a sealed package file to send.
type Package struct {
	Path   string
	SHA256 [32]byte
	Size   int64
}

// Describe hashes the package file at path.
func Describe(path string) (Package, error) {
	f, err := os.Open(path)
	if err != nil {
		return Package{}, fmt.Errorf("send: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, bufio.NewReaderSize(f, 1<<20))
	if err != nil {
		return Package{}, fmt.Errorf("send: read %s: %w", path, err)
	}
	p := Package{Path: path, Size: n}
	copy(p.SHA256[:], h.Sum(nil))
	return p, nil
}

// Send delivers a package on this connection alone, as one lane. write,
// if set, wraps the stream writer (for a bandwidth cap). It returns a
// *RefusedError when the outer refuses.
func (c *Conn) Send(ctx context.Context, p Package, write func(context.Context, io.Writer) io.Writer) (Result, error) {
	lr, err := c.SendLane(ctx, p, 1, 0, write)
	return Result{Status: lr.Status, Resumed: lr.Resumed, Sent: lr.Sent, Receipt: lr.Receipt}, err
}

// LaneResult is how one lane's delivery ended.
type LaneResult struct {
	Status  transfer.Status // Stored (the receipt), Already, or Held
	Resumed int64           // bytes of the lane the outer already held
	Sent    int64           // bytes sent on this stream
	Receipt []byte          // the signed reply, when Stored or Already
}

// SendLane delivers one lane of a package split into lanes, on a new stream.
func (c *Conn) SendLane(ctx context.Context, p Package, lanes, lane int, write func(context.Context, io.Writer) io.Writer) (LaneResult, error) {
	c.lanes.Add(1)
	defer c.lanes.Add(-1)
	// Waiting for stream credit is not the path stalling: watch from the
	// offer on.
	s, err := c.q.OpenStreamSync(ctx)
	if err != nil {
		return LaneResult{}, fmt.Errorf("send: open stream: %w", err)
	}
	defer s.CancelRead(transfer.CodeOK) // the outer's FIN after its last answer is not read
	end := c.wait()                     // the offer and its answer
	stop := context.AfterFunc(ctx, func() { s.CancelWrite(transfer.CodeShuttingOff); s.CancelRead(transfer.CodeShuttingOff) })
	defer stop()
	offer := transfer.Offer{SHA256: p.SHA256, Size: p.Size, Lanes: lanes, Lane: lane}
	if _, err := s.Write(offer.Marshal()); err != nil {
		end(false)
		return LaneResult{}, fmt.Errorf("send: offer: %w", err)
	}
	s.SetReadDeadline(time.Now().Add(transfer.IdleTimeout))
	rep, signed, err := transfer.ReadReply(s, c.outerKey, p.SHA256, lane)
	end(err == nil)
	if err != nil {
		s.CancelRead(transfer.CodeProtocol)
		return LaneResult{}, err
	}
	start, stopAt := offer.Range()
	switch {
	case rep.Status == transfer.Already || rep.Status == transfer.Held || rep.Status == transfer.Stored:
		s.Close()
		return LaneResult{Status: rep.Status, Receipt: receipt(rep, signed)}, nil
	case rep.Status == transfer.Refused:
		s.Close()
		return LaneResult{}, &RefusedError{Reason: rep.Reason}
	case rep.Offset < start || rep.Offset >= stopAt:
		s.CancelRead(transfer.CodeProtocol)
		s.CancelWrite(transfer.CodeProtocol)
		return LaneResult{}, fmt.Errorf("%w: continue lane %d at %d, outside [%d, %d)", transfer.ErrProtocol, lane, rep.Offset, start, stopAt)
	}
	resumed := rep.Offset - start
	f, err := os.Open(p.Path)
	if err != nil {
		s.CancelWrite(transfer.CodeShuttingOff)
		return LaneResult{}, fmt.Errorf("send: %w", err)
	}
	defer f.Close()
	var w io.Writer = watched{c, s}
	if write != nil {
		w = write(ctx, w)
	}
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	n, err := io.CopyBuffer(w, io.NewSectionReader(f, rep.Offset, stopAt-rep.Offset), *bp)
	if err != nil {
		return LaneResult{}, fmt.Errorf("send: stream package: %w", err)
	}
	if n != stopAt-rep.Offset {
		return LaneResult{}, fmt.Errorf("send: %s changed size while sending", p.Path)
	}
	if err := s.Close(); err != nil { // FIN: all bytes are out
		return LaneResult{}, fmt.Errorf("send: finish: %w", err)
	}
	// Verifying a multi-GB package takes a while: wait for the answer as
	// long as the connection lives.
	s.SetReadDeadline(time.Time{})
	rep, signed, err = transfer.ReadReply(s, c.outerKey, p.SHA256, lane)
	if err != nil {
		return LaneResult{}, err
	}
	switch rep.Status {
	case transfer.Stored, transfer.Held, transfer.Already:
		return LaneResult{Status: rep.Status, Resumed: resumed, Sent: n, Receipt: receipt(rep, signed)}, nil
	case transfer.Refused:
		return LaneResult{}, &RefusedError{Reason: rep.Reason}
	}
	return LaneResult{}, fmt.Errorf("%w: answer with status %d", transfer.ErrProtocol, rep.Status)
}

// copyBufs are the lanes' send buffers.
var copyBufs = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

// IsRefused reports a refusal and its reason.
func IsRefused(err error) (transfer.Reason, bool) {
	var re *RefusedError
	if errors.As(err, &re) {
		return re.Reason, true
	}
	return 0, false
}

// receipt is the signed reply when it says the outer holds the whole
// package.
func receipt(rep transfer.Reply, signed []byte) []byte {
	if rep.Status == transfer.Stored || rep.Status == transfer.Already {
		return signed
	}
	return nil
}
