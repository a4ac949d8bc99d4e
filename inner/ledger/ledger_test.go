package ledger_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"os"
	"strings"
	"testing"

	"sealgate/inner/ledger"
	"sealgate/inner/store"
	"sealgate/inner/watermark"
	"sealgate/shared/audit"
	"sealgate/shared/pgdb/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func newLedger(t *testing.T, appliance int) (*ledger.Ledger, *audit.Log) {
	t.Helper()
	key := make([]byte, 32)
	rand.Read(key)
	pool := pgtest.NewPool(t, store.Migrations())
	log := audit.New(pool, key)
	l, err := ledger.New(pool, log, appliance)
	if err != nil {
		t.Fatal(err)
	}
	return l, log
}

// TestSerialsLeadBackToTheirRow: each copy gets the next serial; the
// payload a trace reads finds the row with what was recorded; a failed
// render keeps its serial; every step is in the audit chain.
func TestSerialsLeadBackToTheirRow(t *testing.T) {
	ctx := context.Background()
	l, log := newLedger(t, 7)
	req := ledger.Request{Requester: "  경위 김민수, 강남경찰서 형사과 ", Reason: "절도 사건 2026-1123", IssuedBy: "cli",
		SourceName: "cam12-2026-11-20.mp4", SourceSHA256: sha256.Sum256([]byte("footage"))}
	first, err := l.Open(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if first.State != ledger.Rendering || first.Requester != "경위 김민수, 강남경찰서 형사과" || first.Appliance != 7 {
		t.Fatalf("opened: %+v", first)
	}
	second, err := l.Open(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if second.Serial <= first.Serial {
		t.Fatalf("serials %d then %d", first.Serial, second.Serial)
	}
	out := sha256.Sum256([]byte("marked copy"))
	issued, err := l.Issue(ctx, first.Serial, out, 249, 47.3)
	if err != nil || issued.State != ledger.Issued || issued.Frames != 249 || issued.FinishedAt == nil {
		t.Fatalf("Issue: %+v, %v", issued, err)
	}
	if _, err := l.Issue(ctx, first.Serial, out, 1, 1); !errors.Is(err, ledger.ErrNotRendering) {
		t.Fatalf("second Issue of one serial: %v, want ErrNotRendering", err)
	}
	if _, err := l.Fail(ctx, second.Serial, errors.New("ffmpeg: truncated input")); err != nil {
		t.Fatal(err)
	}

	p, err := watermark.ParsePayload(first.Payload)
	if err != nil || p != first.WatermarkPayload() || p.Appliance() != 7 || p.Serial() != first.Serial {
		t.Fatalf("payload %s: %v", first.Payload, err)
	}
	got, err := l.Lookup(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if got.Reason != req.Reason || got.OutputSHA256 != issued.OutputSHA256 || got.SourceSHA256 != first.SourceSHA256 ||
		got.PSNR < 47.2 || got.PSNR > 47.4 {
		t.Fatalf("Lookup: %+v", got)
	}
	if failed, _ := l.Lookup(ctx, second.WatermarkPayload()); failed.State != ledger.Failed || !strings.Contains(failed.Error, "truncated") {
		t.Fatalf("failed row: %+v", failed)
	}
	if _, err := l.Lookup(ctx, watermark.ExportPayload(8, first.Serial)); !errors.Is(err, ledger.ErrNotFound) {
		t.Fatalf("another appliance's payload: %v, want ErrNotFound", err)
	}
	all, err := l.List(ctx, 10)
	if err != nil || len(all) != 2 || all[0].Serial != second.Serial {
		t.Fatalf("List: %d rows, %v", len(all), err)
	}
	n, err := log.Verify(ctx)
	if err != nil || n != 4 { // open, open, issued, failed
		t.Fatalf("audit chain: %d entries, %v", n, err)
	}
}

func TestRefusesWhatCannotBeRecorded(t *testing.T) {
	ctx := context.Background()
	l, _ := newLedger(t, 1)
	for name, r := range map[string]ledger.Request{
		"no requester":      {Reason: "x", IssuedBy: "cli"},
		"blank reason":      {Requester: "x", Reason: " \t", IssuedBy: "cli"},
		"long requester":    {Requester: strings.Repeat("가", ledger.MaxRequester+1), Reason: "x", IssuedBy: "cli"},
		"control character": {Requester: "x\x1b[2J", Reason: "x", IssuedBy: "cli"},
		"not UTF-8":         {Requester: "x", Reason: "\xff", IssuedBy: "cli"},
		"nobody issues":     {Requester: "x", Reason: "x"},
	} {
		if _, err := l.Open(ctx, r); !errors.Is(err, ledger.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
	if all, _ := l.List(ctx, 10); len(all) != 0 {
		t.Fatalf("refused requests took serials: %d rows", len(all))
	}
	if _, err := l.Open(ctx, ledger.Request{Requester: strings.Repeat("가", ledger.MaxRequester), Reason: "x", IssuedBy: "cli"}); err != nil {
		t.Fatalf("a requester of exactly %d characters: %v", ledger.MaxRequester, err)
	}
	if _, err := ledger.New(nil, nil, 0); err == nil {
		t.Fatal("appliance 0 accepted")
	}
}
