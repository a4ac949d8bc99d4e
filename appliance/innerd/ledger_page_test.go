package innerd_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/hpke"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"sealgate/appliance/daemon/daemontest"
	"sealgate/appliance/innerd"
	"sealgate/inner/ledger"
	"sealgate/inner/outbox"
	"sealgate/shared/account"
	"sealgate/shared/audit"
	"sealgate/shared/keys"
	"sealgate/shared/seal"
	"sealgate/transfer"
	"sealgate/transfer/send"
)

// The ledger page says, in Korean and English, when a copy's delivered
// package was destroyed once the outer's receipt verified.
func TestLedgerPageShowsVerifiedDestruction(t *testing.T) {
	ctx := context.Background()
	d, cfg, k := startConsole(t)
	pool, err := pgxpool.New(ctx, cfg.Database.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	log := audit.New(pool, k.Secrets.Audit)
	l, err := ledger.New(pool, log, cfg.ApplianceNumber)
	if err != nil {
		t.Fatal(err)
	}
	e, err := l.Open(ctx, ledger.Request{Requester: "경위 김민수", Reason: "절도 2026-1123", IssuedBy: "cli", SourceName: "cam12.mp4"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Issue(ctx, e.Serial, sha256.Sum256([]byte("copy")), 10, 45); err != nil {
		t.Fatal(err)
	}
	// Its package, sealed by this appliance, delivered, then destroyed.
	outerDir := filepath.Join(t.TempDir(), "outer-keys")
	if err := keys.InitOuter(outerDir); err != nil {
		t.Fatal(err)
	}
	out, err := keys.LoadOuter(outerDir)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	video := sha256.Sum256([]byte("video"))
	m := seal.Manifest{Watermark: e.Payload, ViewUntil: time.Now().Add(time.Hour), DeliveredSHA256: hex.EncodeToString(video[:])}
	if _, err := seal.Seal(&buf, strings.NewReader("video"), 5, m,
		seal.Options{Signer: k.Signing, Recipients: []hpke.PublicKey{out.License.PublicKey()}}); err != nil {
		t.Fatal(err)
	}
	pkgPath := filepath.Join(t.TempDir(), "clip.sgpkg")
	os.WriteFile(pkgPath, buf.Bytes(), 0o600)
	ob, err := outbox.New(pool, filepath.Join(t.TempDir(), "outbox"), log)
	if err != nil {
		t.Fatal(err)
	}
	signer := k.Signing.Public().(ed25519.PublicKey)
	queued, err := ob.Add(ctx, "cli", pkgPath, signer, 0)
	if err != nil {
		t.Fatal(err)
	}
	if it, err := ob.Sending(signer).Next(ctx); err != nil || it == nil {
		t.Fatalf("Next: %v, %v", it, err)
	}
	if err := ob.Delivered(ctx, queued.ID, send.Result{Status: transfer.Stored}); err != nil {
		t.Fatal(err)
	}
	var sum [32]byte
	raw, _ := hex.DecodeString(queued.SHA256)
	copy(sum[:], raw)
	at := time.Date(2026, 12, 14, 0, 30, 0, 0, time.UTC) // 09:30 KST
	outerKey := out.Transfer.PrivateKey.(ed25519.PrivateKey)
	rep := transfer.StatusReply{State: transfer.StateDestroyed, Reason: transfer.DestroyRevoked, SHA256: sum, DestroyedAt: at}
	if err := ob.Answered(ctx, queued.ID, rep.Sign(outerKey), outerKey.Public().(ed25519.PublicKey), time.Now()); err != nil {
		t.Fatal(err)
	}

	svc := daemontest.Accounts(t, cfg.Database.URL, innerd.Accounts, &k.Secrets)
	u, _, err := svc.CreateUser(ctx, account.Actor{Name: "test"}, account.NewUser{Username: "auditor.han", Role: "auditor"})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := svc.StartSession(ctx, u, account.StageOK, "test", "test")
	if err != nil {
		t.Fatal(err)
	}
	c := d.Client(t)
	c.SetSession(tok)
	for _, want := range []string{"2026-12-14 09:30:00 KST 파기됨 (파기 확인서 검증됨)", "destroyed at 2026-12-14 09:30:00 KST (verified receipt)"} {
		code, body := c.Do(t, http.MethodGet, "/ledger/copies", nil, false)
		if code != http.StatusOK || !strings.Contains(body, want) || !strings.Contains(body, e.Payload) {
			t.Fatalf("GET /ledger/copies: %d, want %q:\n%.2000s", code, want, body)
		}
		c.Do(t, http.MethodPost, "/lang", url.Values{"lang": {"en"}, "back": {"/ledger/copies"}}, true)
	}
}
