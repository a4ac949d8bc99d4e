package receive

import (
	"bufio"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"sealgate/shared/seal"
	"sealgate/transfer"
)

// partial is a package arriving in lanes. incoming/<sha256>.partial holds
// its bytes at their final offsets (space reserved up front);
// incoming/<sha256>.lanes records how far each lane has arrived, written
// only after the bytes it counts, so a daemon killed at any point resumes
// each lane from bytes that are really in the file.
type partial struct {
	peer        string         // the inner it arrives from; no other may add to it
	manifest    *seal.Manifest // once verified: what the store records of it
	sum         [32]byte
	size        int64
	lanes       int
	path, state string
	f           *os.File

	mu     sync.Mutex
	grown  *sync.Cond   // on mu: held grew, or the partial closed
	held   []int64      // per lane: written up to here (absolute offset)
	owner  []*laneOwner // per lane: the stream writing it, if any
	rec    *os.File     // the .lanes record
	done   bool         // verified and moved into the store
	closed bool         // no stream uses it any more, or it was discarded
	refs   int
	finish sync.Mutex // one store at a time

	// The verifier hashes and checks the package while it arrives, reading
	// the contiguous prefix of held bytes, so that little is left to do
	// once the last lane is in.
	verified chan struct{} // closed when the verifier ended
	sumGot   []byte
	verr     error
}

// laneOwner is the stream receiving a lane; a newer offer of the same lane
// by the same peer stops it (the sender only offers a lane again once it
// has given up the old stream, which the outer may not know yet).
type laneOwner struct {
	lane int
	peer string
	stop func()
	done chan struct{}
}

const (
	recordMagic = "SGL2"
	takeover    = 10 * time.Second // how long a new offer waits for the old stream to let go
)

var errPartialGone = errors.New("receive: partial package was discarded")

// openPartial resumes the partial package sum if its record matches the
// offer's layout, or starts it afresh, reserving size bytes on disk.
func openPartial(path, state string, o transfer.Offer) (*partial, error) {
	p := &partial{sum: o.SHA256, size: o.Size, lanes: o.Lanes, path: path, state: state, verified: make(chan struct{})}
	p.grown = sync.NewCond(&p.mu)
	if held, ok := readRecord(state, o); ok {
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err == nil {
			if fi, err := f.Stat(); err == nil && fi.Size() == o.Size {
				rec, err := os.OpenFile(state, os.O_RDWR, 0)
				if err == nil {
					p.f, p.rec, p.held = f, rec, held
					p.owner = make([]*laneOwner, o.Lanes)
					return p, nil
				}
			}
			f.Close()
		}
	}
	// No usable record (none, torn, another layout): start over.
	os.Remove(state)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, err
	}
	if err := reserve(f, o.Size); err != nil {
		f.Close()
		os.Remove(path)
		return nil, err
	}
	rec, err := os.OpenFile(state, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		f.Close()
		os.Remove(path)
		return nil, err
	}
	p.f, p.rec = f, rec
	p.held = make([]int64, o.Lanes)
	for i := range p.held {
		p.held[i], _ = transfer.LaneRange(o.Size, o.Lanes, i)
	}
	p.owner = make([]*laneOwner, o.Lanes)
	if err := p.writeRecord(); err != nil {
		p.discard()
		return nil, err
	}
	return p, nil
}

// reserve allocates the file's blocks, so a full disk is refused before a
// byte is transferred rather than midway.
func reserve(f *os.File, size int64) error {
	err := unix.Fallocate(int(f.Fd()), 0, 0, size)
	if errors.Is(err, syscall.EOPNOTSUPP) {
		err = f.Truncate(size)
	}
	return err
}

func readRecord(state string, o transfer.Offer) ([]int64, bool) {
	b, err := os.ReadFile(state)
	if err != nil {
		return nil, false
	}
	return parseRecord(b, o)
}

// parseRecord accepts a record of o's layout only, with every lane's
// offset inside the lane.
func parseRecord(b []byte, o transfer.Offer) ([]int64, bool) {
	n := 4 + 8 + 1 + 8*o.Lanes + 4
	if len(b) != n || string(b[:4]) != recordMagic ||
		binary.BigEndian.Uint32(b[n-4:]) != crc32.ChecksumIEEE(b[:n-4]) ||
		int64(binary.BigEndian.Uint64(b[4:12])) != o.Size || int(b[12]) != o.Lanes {
		return nil, false
	}
	held := make([]int64, o.Lanes)
	for i := range held {
		held[i] = int64(binary.BigEndian.Uint64(b[13+8*i:]))
		if start, end := transfer.LaneRange(o.Size, o.Lanes, i); held[i] < start || held[i] > end {
			return nil, false
		}
	}
	return held, true
}

// writeRecord saves held; the caller holds mu.
func (p *partial) writeRecord() error {
	_, err := p.rec.WriteAt(encodeRecord(p.size, p.lanes, p.held), 0)
	return err
}

func encodeRecord(size int64, lanes int, held []int64) []byte {
	b := append([]byte(recordMagic), make([]byte, 8)...)
	binary.BigEndian.PutUint64(b[4:], uint64(size))
	b = append(b, byte(lanes))
	for _, h := range held {
		b = binary.BigEndian.AppendUint64(b, uint64(h))
	}
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
}

// checkpoint records lane as held up to off. It does not sync: a process
// that dies leaves its writes in the page cache, and after a power loss a
// record ahead of the disk only costs a resend (the complete package's
// hash is checked before it is stored, and synced before it is renamed).
func (p *partial) checkpoint(lane int, off int64) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done || p.rec == nil {
		return errPartialGone
	}
	p.held[lane] = off
	p.grown.Broadcast()
	return p.writeRecord()
}

// take makes the caller the lane's only writer, stopping an older stream
// of the same peer. It returns the offset the lane continues from.
func (p *partial) take(lane int, peer string, stop func()) (*laneOwner, int64, error) {
	deadline := time.Now().Add(takeover)
	for {
		p.mu.Lock()
		old := p.owner[lane]
		if old == nil {
			me := &laneOwner{lane: lane, peer: peer, stop: stop, done: make(chan struct{})}
			p.owner[lane] = me
			off := p.held[lane]
			p.mu.Unlock()
			return me, off, nil
		}
		p.mu.Unlock()
		if old.peer != peer {
			return nil, 0, errBusy
		}
		old.stop()
		select {
		case <-old.done:
		case <-time.After(time.Until(deadline)):
			return nil, 0, errBusy
		}
	}
}

// let gives the lane back.
func (p *partial) let(me *laneOwner) {
	p.mu.Lock()
	if p.owner[me.lane] == me {
		p.owner[me.lane] = nil
	}
	p.mu.Unlock()
	close(me.done)
}

// complete reports whether every lane is held in full.
func (p *partial) complete() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.prefix() == p.size
}

// prefix is how far the package is held without a gap; the caller holds mu.
func (p *partial) prefix() int64 {
	for i, h := range p.held {
		if _, end := transfer.LaneRange(p.size, p.lanes, i); h != end {
			return h
		}
	}
	return p.size
}

// verify runs the verifier: SHA-256 of the file and the package's
// signature, over bytes as they become held.
func (p *partial) verify(signer ed25519.PublicKey) {
	defer close(p.verified)
	h := sha256.New()
	hr := &heldReader{p: p}
	r := io.TeeReader(bufio.NewReaderSize(hr, 1<<20), h)
	var pkg *seal.Package
	pkg, p.verr = seal.Verify(r, signer)
	if p.verr == nil {
		p.manifest = pkg.Manifest
	}
	// Hash what Verify left unread: bytes that differ from the offer are
	// a transfer fault worth a resend, not a bad package.
	io.Copy(io.Discard, r)
	if hr.err != nil { // the file could not be read: no verdict on the package
		p.verr = fmt.Errorf("%w: %w", errUnread, hr.err)
		return
	}
	p.sumGot = h.Sum(nil)
}

var errUnread = errors.New("receive: partial package not readable")

// heldReader reads the package from the start, waiting for bytes that are
// not yet held.
type heldReader struct {
	p   *partial
	off int64
	err error // the first failure other than the end of the package
}

func (r *heldReader) Read(b []byte) (int, error) {
	p := r.p
	p.mu.Lock()
	for !p.closed && p.prefix() <= r.off && r.off < p.size {
		p.grown.Wait()
	}
	avail, closed := p.prefix()-r.off, p.closed
	p.mu.Unlock()
	switch {
	case r.off >= p.size:
		return 0, io.EOF
	case closed:
		r.err = errPartialGone
		return 0, r.err
	}
	n, err := p.f.ReadAt(b[:min(int64(len(b)), avail)], r.off)
	r.off += int64(n)
	if err == io.EOF && n > 0 {
		err = nil
	}
	if err != nil && r.err == nil {
		r.err = err
	}
	return n, err
}

// verdict waits for the verifier, which ends once every lane is held.
func (p *partial) verdict() error {
	<-p.verified
	if p.sumGot != nil && string(p.sumGot) != string(p.sum[:]) {
		return errHash
	}
	return p.verr
}

// close ends the verifier; the caller holds mu.
func (p *partial) close() {
	p.closed = true
	p.grown.Broadcast()
}

// discard deletes the partial package (bad bytes, or a full disk: give the
// space back). Streams still writing it fail their next checkpoint.
func (p *partial) discard() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.close()
	p.closeRecord()
	os.Remove(p.path)
	os.Remove(p.state)
}

func (p *partial) closeRecord() {
	if p.rec != nil {
		p.rec.Close()
		p.rec = nil
	}
}

var errBusy = errors.New("receive: lane is arriving on another stream")

// store hands the verified package to keep, which moves it into the store
// durably, and forgets its record. kept says whether the package is in the
// store: if keep fails once the file has moved (it could not be recorded),
// the partial is done all the same and its record goes.
func (p *partial) store(keep func(data string) error, kept func() bool) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	err := keep(p.path)
	if err != nil && !kept() {
		return err
	}
	p.done = true
	p.closeRecord()
	os.Remove(p.state)
	return err
}
