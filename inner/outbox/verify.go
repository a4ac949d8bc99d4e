package outbox

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/jackc/pgx/v5"

	"sealgate/shared/audit"
	"sealgate/shared/seal"
	"sealgate/transfer/send"
)

// ErrTampered reports a queued package whose file no longer is what was
// verified and recorded when it was queued: another file in its place, or
// a record changed to name one. It is not sent.
var ErrTampered = errors.New("outbox: package on disk does not match its record")

// Sending is the outbox as a sender reads it: every package it hands out
// was checked again, just before, against its record (size, SHA-256) and
// against this appliance's signing key, so a file swapped on disk, or a
// row changed in the database, does not leave the inner.
type Sending struct {
	*Outbox
	signer ed25519.PublicKey
}

var _ send.Queue = Sending{}

// Sending returns the outbox to give a sender; signer is this appliance's
// signing key.
func (o *Outbox) Sending(signer ed25519.PublicKey) Sending {
	return Sending{Outbox: o, signer: signer}
}

// Next claims the next due package that checks out. One that does not is
// marked refused, audited as transfer.tampered, and reported (the sender
// logs it as an error: an alert); the next is claimed on the next call.
func (s Sending) Next(ctx context.Context) (*send.Item, error) {
	it, err := s.claim(ctx)
	if it == nil || err != nil {
		return it, err
	}
	verr := check(it.Package, s.signer)
	if verr == nil {
		return it, nil
	}
	name := hex.EncodeToString(it.Package.SHA256[:])
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE outbox SET state = 'refused', last_error = $2, claimed_at = NULL WHERE id = $1`,
			it.ID, verr.Error()); err != nil {
			return fmt.Errorf("outbox: hold back %s: %w", name, err)
		}
		return s.audit.AppendTx(ctx, tx, audit.Entry{Actor: "system", Action: "transfer.tampered", Target: name,
			Outcome: audit.Failed, Detail: verr.Error()})
	})
	return nil, errors.Join(fmt.Errorf("outbox entry %d (%s) held back: %w", it.ID, name, verr), err)
}

// check reads the package once: its size and SHA-256 against the record,
// and its signature against signer.
func check(pkg send.Package, signer ed25519.PublicKey) error {
	f, err := os.Open(pkg.Path)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrTampered, err)
	}
	defer f.Close()
	h := sha256.New()
	counted := &countingReader{r: io.TeeReader(bufio.NewReaderSize(f, 1<<20), h)}
	_, verr := seal.Verify(counted, signer)
	if _, err := io.Copy(io.Discard, counted); err != nil { // anything past the trailer counts too
		return fmt.Errorf("%w: %w", ErrTampered, err)
	}
	switch {
	case counted.n != pkg.Size || !bytes.Equal(h.Sum(nil), pkg.SHA256[:]):
		return fmt.Errorf("%w: %s is %d bytes, SHA-256 %x; recorded %d bytes, %x", ErrTampered, pkg.Path, counted.n, h.Sum(nil), pkg.Size, pkg.SHA256)
	case verr != nil:
		return fmt.Errorf("%w: %w", ErrTampered, verr)
	}
	return nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
