package outerd_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"sealgate/appliance/daemon"
	"sealgate/appliance/daemon/daemontest"
	"sealgate/appliance/outerd"
	"sealgate/shared/buildinfo"
	"sealgate/shared/keys"
)

// The admins' device page, over HTTPS from a running outer: the version,
// the web certificate and every key file with the fingerprints keys show
// gives, the disks, the clock, the audit chain's anchor made at start; a
// private key whose mode was loosened is flagged; an officer gets 403.
func TestDevicePage(t *testing.T) {
	cfg := externalConfig(t)
	k, _ := keys.LoadOuter(cfg.KeyDir)
	d := daemontest.Start(t, func(ctx context.Context, started func(daemon.Addrs)) error {
		return outerd.Serve(ctx, cfg, io.Discard, slog.New(slog.DiscardHandler), started)
	})
	svc := daemontest.Accounts(t, cfg.Database.URL, outerd.Accounts, &k.Secrets)
	admin, officer := d.SignedIn(t, svc, "admin.lee", "admin"), d.SignedIn(t, svc, "officer.kim", "officer")
	if code, _ := officer.Do(t, http.MethodGet, "/device", nil, false); code != http.StatusForbidden {
		t.Errorf("an officer's device page: %d, want 403", code)
	}
	// The anchoring at start writes the anchor file; the page shows it.
	for end := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if _, err := os.Stat(cfg.Audit.AnchorFile); err == nil {
			break
		} else if time.Now().After(end) {
			t.Fatalf("no anchor at start: %v", err)
		}
	}
	if err := os.Chmod(filepath.Join(cfg.KeyDir, "audit.key"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, page := admin.Do(t, http.MethodGet, "/device", nil, false)
	if code != http.StatusOK {
		t.Fatalf("the device page: %d", code)
	}
	pubs, err := keys.Show(cfg.KeyDir)
	if err != nil || len(pubs) == 0 {
		t.Fatal(pubs, err)
	}
	for _, p := range pubs {
		if !strings.Contains(page, p.Fingerprint) {
			t.Errorf("the page lacks %s's fingerprint %s", p.Name, p.Fingerprint)
		}
	}
	for _, want := range []string{buildinfo.Version, d.Addrs.CertFingerprint, cfg.Transfer.StoreDir, `id="clock"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if !regexp.MustCompile(`<dd id="anchor"><span class="">[^<]+ · entry \d+, MAC [0-9a-f]{16}…</span>`).MatchString(page) {
		t.Errorf("the anchor: %s", regexp.MustCompile(`(?s)<dd id="anchor">.*?</dd>`).FindString(page))
	}
	if !regexp.MustCompile(`<tr class="error" data-file="audit.key">`).MatchString(page) ||
		regexp.MustCompile(`<tr class="error" data-file="transfer.key">`).MatchString(page) {
		t.Errorf("key modes: %s", regexp.MustCompile(`(?s)<table id="keys">.*?</table>`).FindString(page))
	}
	if !strings.Contains(page, `href="/device"`) {
		t.Error("no link to the device page in the admin's header")
	}
}
