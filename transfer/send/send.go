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
	"os"
	"time"

	"github.com/quic-go/quic-go"

	"sealgate/transfer"
)

// Conn is a connection to the outer appliance.
type Conn struct {
	q        *quic.Conn
	outerKey ed25519.PublicKey // signs the outer's replies; pinned in the handshake
}

// Dial connects to the outer at addr with the inner's identity, accepting
// only the outer whose transfer key has outerFingerprint. quicConf nil
// means transfer.ClientQUIC.
func Dial(ctx context.Context, addr string, identity tls.Certificate, outerFingerprint string, quicConf *quic.Config) (*Conn, error) {
	if quicConf == nil {
		quicConf = transfer.ClientQUIC()
	}
	q, err := quic.DialAddr(ctx, addr, transfer.ClientTLS(identity, outerFingerprint), quicConf)
	if err != nil {
		return nil, fmt.Errorf("send: dial %s: %w", addr, err)
	}
	key, _, err := transfer.PeerKey(q.ConnectionState().TLS)
	if err != nil {
		q.CloseWithError(transfer.CodeUnpaired, "")
		return nil, err
	}
	return &Conn{q: q, outerKey: key}, nil
}

// Close ends the connection.
func (c *Conn) Close() error { return c.q.CloseWithError(transfer.CodeOK, "") }

// Done is closed when the connection has ended (idle timeout, peer gone).
func (c *Conn) Done() <-chan struct{} { return c.q.Context().Done() }

// Result is how a package's delivery ended.
type Result struct {
	Status  transfer.Status // Stored or Already
	Resumed int64           // bytes the outer already held
	Sent    int64           // bytes sent on this stream
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

// Send delivers one package on a new stream. write, if set, wraps the
// stream writer (for a bandwidth cap). It returns a *RefusedError when the
// outer refuses.
func (c *Conn) Send(ctx context.Context, p Package, write func(io.Writer) io.Writer) (Result, error) {
	s, err := c.q.OpenStreamSync(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("send: open stream: %w", err)
	}
	stop := context.AfterFunc(ctx, func() { s.CancelWrite(transfer.CodeShuttingOff); s.CancelRead(transfer.CodeShuttingOff) })
	defer stop()
	if _, err := s.Write(transfer.Offer{SHA256: p.SHA256, Size: p.Size}.Marshal()); err != nil {
		return Result{}, fmt.Errorf("send: offer: %w", err)
	}
	s.SetReadDeadline(time.Now().Add(transfer.IdleTimeout))
	rep, err := transfer.ReadReply(s, c.outerKey, p.SHA256)
	if err != nil {
		s.CancelRead(transfer.CodeProtocol)
		return Result{}, err
	}
	switch {
	case rep.Status == transfer.Already:
		s.Close()
		return Result{Status: transfer.Already}, nil
	case rep.Status == transfer.Refused:
		s.Close()
		return Result{}, &RefusedError{Reason: rep.Reason}
	case rep.Status != transfer.Continue || rep.Offset > p.Size:
		s.CancelRead(transfer.CodeProtocol)
		return Result{}, fmt.Errorf("%w: unexpected reply %d at offset %d", transfer.ErrProtocol, rep.Status, rep.Offset)
	}
	resumed := rep.Offset
	f, err := os.Open(p.Path)
	if err != nil {
		s.CancelWrite(transfer.CodeShuttingOff)
		return Result{}, fmt.Errorf("send: %w", err)
	}
	defer f.Close()
	var w io.Writer = s
	if write != nil {
		w = write(s)
	}
	n, err := io.Copy(w, io.NewSectionReader(f, rep.Offset, p.Size-rep.Offset))
	if err != nil {
		return Result{}, fmt.Errorf("send: stream package: %w", err)
	}
	if n != p.Size-rep.Offset {
		return Result{}, fmt.Errorf("send: %s changed size while sending", p.Path)
	}
	if err := s.Close(); err != nil { // FIN: all bytes are out
		return Result{}, fmt.Errorf("send: finish: %w", err)
	}
	// Verifying a multi-GB package takes a while: wait for the receipt
	// as long as the connection lives.
	s.SetReadDeadline(time.Time{})
	rep, err = transfer.ReadReply(s, c.outerKey, p.SHA256)
	if err != nil {
		return Result{}, err
	}
	switch rep.Status {
	case transfer.Stored:
		return Result{Status: transfer.Stored, Resumed: resumed, Sent: n}, nil
	case transfer.Refused:
		return Result{}, &RefusedError{Reason: rep.Reason}
	}
	return Result{}, fmt.Errorf("%w: receipt with status %d", transfer.ErrProtocol, rep.Status)
}

// IsRefused reports a refusal and its reason.
func IsRefused(err error) (transfer.Reason, bool) {
	var re *RefusedError
	if errors.As(err, &re) {
		return re.Reason, true
	}
	return 0, false
}
