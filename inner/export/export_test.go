package export_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sealgate/inner/child"
	"sealgate/inner/export"
	"sealgate/inner/ledger"
	"sealgate/inner/mask"
	"sealgate/inner/store"
	"sealgate/inner/watermark"
	"sealgate/shared/audit"
	"sealgate/shared/pgdb/pgtest"
)

// TestMain also lets the test binary act as sealgate-inner's probe child,
// which ingest starts (inner/child).
func TestMain(m *testing.M) {
	if os.Getenv(child.Env) != "" {
		child.MustEnter()
		if len(os.Args) != 4 || os.Args[1] != export.ProbeCommand {
			fmt.Fprintln(os.Stderr, "sealgate-inner: not a child of these tests:", os.Args[1:])
			os.Exit(2)
		}
		if err := export.ProbeChild(context.Background(), os.Args[3], os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "sealgate-inner:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(pgtest.Main(m))
}

// newIssuer is an Issuer on a fresh, migrated database of the package's
// PostgreSQL, with a random watermark key, so every test starts at serial 1.
func newIssuer(t *testing.T) (*export.Issuer, *ledger.Ledger) {
	t.Helper()
	auditKey := make([]byte, 32)
	rand.Read(auditKey)
	pool := pgtest.NewPool(t, store.Migrations())
	l, err := ledger.New(pool, audit.New(pool, auditKey), 3)
	if err != nil {
		t.Fatal(err)
	}
	secret := make([]byte, watermark.KeySize)
	rand.Read(secret)
	key, err := watermark.NewKey(secret)
	if err != nil {
		t.Fatal(err)
	}
	return &export.Issuer{Ledger: l, Key: key}, l
}

// newCopy writes a small source file; the "footage" is only ever hashed, so
// any bytes will do and no ffmpeg is needed.
func newCopy(t *testing.T) export.Copy {
	t.Helper()
	dir := t.TempDir()
	in := filepath.Join(dir, "cam12.mp4")
	if err := os.WriteFile(in, []byte("source footage\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return export.Copy{In: in, Out: filepath.Join(dir, "marked.mp4"),
		Requester: "경위 김민수, 강남경찰서", Reason: "절도 사건 2026-1123", IssuedBy: "cli"}
}

func hash(t *testing.T, path string) string {
	t.Helper()
	sum, err := export.HashFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", sum)
}

// TestIssueRecordsBothHashes: the row names the source and the copy by
// SHA-256, and the mark handed to the renderer is the row's own payload,
// so tracing the copy leads back to this row.
func TestIssueRecordsBothHashes(t *testing.T) {
	ctx := context.Background()
	is, l := newIssuer(t)
	c := newCopy(t)
	var got *mask.Watermark
	res, e, err := is.Issue(ctx, c, func(w *mask.Watermark) (*mask.Result, error) {
		got = w
		return &mask.Result{Frames: 25, WatermarkPSNR: 47.5}, os.WriteFile(c.Out, []byte("marked copy "+w.Payload.String()), 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
	if e.State != ledger.Issued || res.Frames != 25 || e.Frames != 25 || e.Requester != c.Requester || e.Reason != c.Reason {
		t.Fatalf("entry %+v, result %+v", e, res)
	}
	if got == nil || got.Key != is.Key || got.Payload != e.WatermarkPayload() {
		t.Fatalf("render got %+v, want key and payload %s", got, e.WatermarkPayload())
	}
	row, err := l.Lookup(ctx, e.WatermarkPayload())
	if err != nil {
		t.Fatal(err)
	}
	if row.State != ledger.Issued || row.SourceSHA256 != hash(t, c.In) || row.OutputSHA256 != hash(t, c.Out) ||
		row.SourceName != "cam12.mp4" || row.SourceSHA256 == row.OutputSHA256 {
		t.Fatalf("ledger row %+v", row)
	}
}

// TestIncompleteTakesNoSerial: without both requester and reason nothing is
// rendered and no serial is spent, since the row could not say who or why.
func TestIncompleteTakesNoSerial(t *testing.T) {
	ctx := context.Background()
	is, l := newIssuer(t)
	for name, edit := range map[string]func(*export.Copy){
		"no requester": func(c *export.Copy) { c.Requester = "" },
		"no reason":    func(c *export.Copy) { c.Reason = "" },
		"neither":      func(c *export.Copy) { c.Requester, c.Reason = "", "" },
	} {
		c := newCopy(t)
		edit(&c)
		rendered := false
		_, e, err := is.Issue(ctx, c, func(*mask.Watermark) (*mask.Result, error) {
			rendered = true
			return &mask.Result{}, nil
		})
		if !errors.Is(err, export.ErrIncomplete) || e != nil || rendered {
			t.Errorf("%s: entry %v, err %v, rendered %v; want ErrIncomplete and no render", name, e, err, rendered)
		}
	}
	if rows, err := l.List(ctx, 10); err != nil || len(rows) != 0 {
		t.Fatalf("incomplete requests left %d rows (%v)", len(rows), err)
	}
}

// TestRenderFailureIsRecorded: the serial was taken before the render, so
// its failure is on record with the renderer's error. Issue removes Out only
// when a "successful" render leaves nothing hashable; after a failed render
// the partial file is the renderer's to clean up, so it is not asserted here.
func TestRenderFailureIsRecorded(t *testing.T) {
	ctx := context.Background()
	is, l := newIssuer(t)
	c := newCopy(t)
	boom := errors.New("ffmpeg: truncated input")
	var p watermark.Payload
	_, e, err := is.Issue(ctx, c, func(w *mask.Watermark) (*mask.Result, error) {
		p = w.Payload
		os.WriteFile(c.Out, []byte("half a copy"), 0o600)
		return nil, boom
	})
	if !errors.Is(err, boom) || e != nil || !strings.Contains(err.Error(), "recorded as failed") {
		t.Fatalf("Issue: entry %v, err %v; want the render's error", e, err)
	}
	row, err := l.Lookup(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if row.State != ledger.Failed || !strings.Contains(row.Error, "truncated input") || row.OutputSHA256 != "" {
		t.Fatalf("ledger row %+v, want failed with the render's error", row)
	}
}

// TestUnhashableOutputIsNotKept: a render that reports success but leaves
// something that cannot be hashed (here a directory) fails the row, and the
// thing at Out is removed: no copy leaves without its hash on record.
func TestUnhashableOutputIsNotKept(t *testing.T) {
	ctx := context.Background()
	is, l := newIssuer(t)
	c := newCopy(t)
	var p watermark.Payload
	_, _, err := is.Issue(ctx, c, func(w *mask.Watermark) (*mask.Result, error) {
		p = w.Payload
		return &mask.Result{Frames: 1}, os.Mkdir(c.Out, 0o700)
	})
	if err == nil {
		t.Fatal("Issue of an unhashable output succeeded")
	}
	if _, serr := os.Stat(c.Out); !errors.Is(serr, os.ErrNotExist) {
		t.Fatalf("output left behind: %v", serr)
	}
	if row, err := l.Lookup(ctx, p); err != nil || row.State != ledger.Failed {
		t.Fatalf("ledger row %+v, %v; want failed", row, err)
	}
}

// TestCancelledCallerStillRecordsFailure: the caller's context dies after
// the serial is taken; the failure is written anyway (on a context without
// the cancellation) so the row does not stay "rendering" forever.
func TestCancelledCallerStillRecordsFailure(t *testing.T) {
	is, l := newIssuer(t)
	c := newCopy(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var p watermark.Payload
	_, _, err := is.Issue(ctx, c, func(w *mask.Watermark) (*mask.Result, error) {
		p = w.Payload
		cancel()
		return nil, ctx.Err()
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Issue: %v, want context.Canceled", err)
	}
	row, err := l.Lookup(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if row.State != ledger.Failed || !strings.Contains(row.Error, "canceled") {
		t.Fatalf("ledger row %+v, want failed", row)
	}
}

// TestSerialsAreDistinct: two exports of the same source get two serials,
// hence two different marks, so a leak names exactly one of them.
func TestSerialsAreDistinct(t *testing.T) {
	ctx := context.Background()
	is, _ := newIssuer(t)
	c := newCopy(t)
	render := func(w *mask.Watermark) (*mask.Result, error) {
		return &mask.Result{Frames: 1}, os.WriteFile(c.Out, []byte(w.Payload.String()), 0o600)
	}
	_, a, err := is.Issue(ctx, c, render)
	if err != nil {
		t.Fatal(err)
	}
	_, b, err := is.Issue(ctx, c, render)
	if err != nil {
		t.Fatal(err)
	}
	if a.Serial == b.Serial || a.Payload == b.Payload || a.WatermarkPayload() == b.WatermarkPayload() {
		t.Fatalf("two exports share serial %d / payload %s", a.Serial, a.Payload)
	}
}

// A copy finished just as the caller was interrupted is still recorded:
// it exists, so the ledger names it (it was once left "rendering" with
// the copy kept and unnamed).
func TestCopyFinishedAsCallerStopsIsRecorded(t *testing.T) {
	is, _ := newIssuer(t)
	c := newCopy(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, e, err := is.Issue(ctx, c, func(w *mask.Watermark) (*mask.Result, error) {
		cancel()
		return &mask.Result{Frames: 3}, os.WriteFile(c.Out, []byte("marked copy\n"), 0o600)
	})
	if err != nil {
		t.Fatalf("Issue: %v", err)
	}
	if e.State != ledger.Issued || e.OutputSHA256 != hash(t, c.Out) {
		t.Fatalf("entry %+v, want issued naming the copy", e)
	}
}

// A renderer that reports neither a result nor an error is a failure, not
// a crash.
func TestNilResultIsAFailure(t *testing.T) {
	is, l := newIssuer(t)
	c := newCopy(t)
	var p watermark.Payload
	_, _, err := is.Issue(context.Background(), c, func(w *mask.Watermark) (*mask.Result, error) {
		p = w.Payload
		return nil, os.WriteFile(c.Out, []byte("marked copy\n"), 0o600)
	})
	if err == nil {
		t.Fatal("Issue with no result: no error")
	}
	row, err := l.Lookup(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if row.State != ledger.Failed {
		t.Fatalf("ledger row %+v, want failed", row)
	}
	if _, err := os.Stat(c.Out); !os.IsNotExist(err) {
		t.Fatalf("the unnamed copy is kept: %v", err)
	}
}
