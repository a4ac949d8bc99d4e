// Package export issues exports: a marked copy of footage made for one
// request, with its serial taken from the ledger before the copy exists and
// the copy's hash recorded after, so no marked copy leaves without a row
// that names who asked for it and why. Both the CLI (mask, watermark with
// --requester) and the console call it. It is the home of the request →
// approval → pipeline state machine (docs/architecture.md, "The export's
// states").
package export

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"sealgate/inner/ledger"
	"sealgate/inner/mask"
	"sealgate/inner/watermark"
)

// Issuer issues exports recorded in Ledger, marked with Key.
type Issuer struct {
	Ledger *ledger.Ledger
	Key    *watermark.Key
}

// Copy is one export to issue: the source footage In, the marked copy to
// write at Out, and who asked for it and why.
type Copy struct {
	In, Out   string
	Requester string // officer, unit, agency
	Reason    string // case number, incident
	IssuedBy  string // the account or "cli"
	// Original, if set, is the footage In was cut from: the ledger names
	// it and its SHA-256 instead of In's.
	Original *Footage
	// Opened, if set, is told the serial before the copy is made (the
	// pipeline keeps it on the export, so a retry can close it).
	Opened func(ctx context.Context, serial uint64) error
}

// ErrIncomplete: a copy without a requester or a reason; the ledger records
// both.
var ErrIncomplete = errors.New("export: the requester and the reason go together: the ledger records both")

// Render makes the marked copy at Copy.Out with the mark it is given.
type Render func(*mask.Watermark) (*mask.Result, error)

// Issue takes the next serial (recording requester and reason against the
// source's SHA-256), runs render with that serial's mark, and records the
// output's SHA-256, or the failure. A copy the ledger cannot name is not
// kept.
func (is *Issuer) Issue(ctx context.Context, c Copy, render Render) (*mask.Result, *ledger.Entry, error) {
	if c.Requester == "" || c.Reason == "" {
		return nil, nil, ErrIncomplete
	}
	name := filepath.Base(c.In)
	var source [32]byte
	var err error
	if c.Original != nil {
		name = c.Original.FileName
		_, err = hex.Decode(source[:], []byte(c.Original.SHA256))
	} else {
		source, err = HashFile(c.In)
	}
	if err != nil {
		return nil, nil, err
	}
	e, err := is.Ledger.Open(ctx, ledger.Request{Requester: c.Requester, Reason: c.Reason, IssuedBy: c.IssuedBy,
		SourceName: name, SourceSHA256: source})
	if err != nil {
		return nil, nil, err
	}
	var res *mask.Result
	if c.Opened != nil {
		err = c.Opened(ctx, e.Serial)
	}
	if err == nil {
		res, err = render(&mask.Watermark{Key: is.Key, Payload: e.WatermarkPayload()})
	}
	if err == nil && res == nil {
		os.Remove(c.Out) // a copy the ledger cannot name is not kept
		err = errors.New("export: the renderer reported no result")
	}
	// From here the serial is taken: what happens to it is recorded even
	// when the caller was interrupted (a short write, bounded in time).
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err == nil {
		var sum [32]byte
		if sum, err = HashFile(c.Out); err == nil {
			var entry *ledger.Entry
			if entry, err = is.Ledger.Issue(rctx, e.Serial, sum, res.Frames, res.WatermarkPSNR); err == nil {
				return res, entry, nil
			}
		}
		os.Remove(c.Out) // a copy the ledger cannot name is not kept
	}
	if _, ferr := is.Ledger.Fail(rctx, e.Serial, err); ferr != nil {
		return nil, nil, errors.Join(err, fmt.Errorf("recording the failure of export %s: %w", e.Payload, ferr))
	}
	return nil, nil, fmt.Errorf("export %s (recorded as failed in the ledger): %w", e.Payload, err)
}

// HashFile is the SHA-256 of the file at path.
func HashFile(path string) ([32]byte, error) {
	var sum [32]byte
	f, err := os.Open(path)
	if err != nil {
		return sum, fmt.Errorf("export: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return sum, fmt.Errorf("export: hashing %s: %w", path, err)
	}
	copy(sum[:], h.Sum(nil))
	return sum, nil
}
