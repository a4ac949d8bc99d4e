package outerd_test

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/hpke"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5/pgxpool"

	"sealgate/appliance/daemon"
	"sealgate/appliance/daemon/daemontest"
	"sealgate/appliance/outerd"
	"sealgate/outer/license"
	"sealgate/outer/pkgstore"
	"sealgate/shared/account"
	"sealgate/shared/accountui"
	"sealgate/shared/audit"
	"sealgate/shared/config"
	"sealgate/shared/keys"
	"sealgate/shared/seal"
	"sealgate/shared/web"
)

// playerDaemon is a real outerd (HTTPS, its database) with keys, the
// receiver off (packages are put in its store here, as the receiver does).
func playerDaemon(t *testing.T, maxPlays int) (*config.Outer, *keys.Outer, *daemontest.Daemon, *account.Service) {
	t.Helper()
	cfg := externalConfig(t)
	cfg.Transfer.Listen = ""
	cfg.License.MaxPlays = maxPlays
	k, err := keys.LoadOuter(cfg.KeyDir)
	if err != nil {
		t.Fatal(err)
	}
	d := daemontest.Start(t, func(ctx context.Context, started func(daemon.Addrs)) error {
		return outerd.Serve(ctx, cfg, io.Discard, slog.New(slog.DiscardHandler), started)
	})
	return cfg, k, d, daemontest.Accounts(t, cfg.Database.URL, outerd.Accounts, &k.Secrets)
}

// fragmentedClip makes a clip in the form the inner delivers: H.264 in
// fragmented MP4, a keyframe (and so a fragment) every 2 s.
func fragmentedClip(t *testing.T, seconds int) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "clip.mp4")
	cmd := exec.Command("ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25", "-t", strconv.Itoa(seconds),
		"-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-g", "50",
		"-movflags", "+frag_keyframe+delay_moov+default_base_moof", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg (needed for the player tests; `make deps` installs it): %v\n%s", err, b)
	}
	return out
}

// storeClip seals clip to the outer's license key for officer, viewable
// from an hour ago for a day, and keeps it in the outer's store the way
// the receiver does. It returns the package id.
func storeClip(t *testing.T, cfg *config.Outer, k *keys.Outer, clip, officer, code string) string {
	t.Helper()
	ctx := context.Background()
	_, signer, _ := ed25519.GenerateKey(rand.Reader)
	now := time.Now().UTC()
	pkg := filepath.Join(t.TempDir(), "clip.sgpkg")
	m, err := seal.SealFile(clip, pkg, seal.Manifest{ExportID: "e-" + code, ExportCode: code, Recipient: seal.Recipient{Name: officer, Agency: "서울중부경찰서"},
		ViewFrom: now.Add(-time.Hour), ViewUntil: now.Add(24 * time.Hour), MediaType: "video/mp4"},
		seal.Options{Signer: signer, Recipients: []hpke.PublicKey{k.License.PublicKey()}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(pkg)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	pool, err := pgxpool.New(ctx, cfg.Database.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	dir, err := pkgstore.OpenDir(cfg.Transfer.StoreDir, pkgstore.New(pool, audit.New(pool, k.Secrets.Audit)))
	if err != nil {
		t.Fatal(err)
	}
	data, _ := dir.Incoming(sum)
	if err := os.Rename(pkg, data); err != nil {
		t.Fatal(err)
	}
	if err := dir.Keep(ctx, "city-hall", sum, int64(len(b)), data, m); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(sum[:])
}

// TestPlayerInTheBrowser plays a real sealed fMP4 clip in headless
// Chromium: the page obtains a license, decrypts the chunks itself and
// plays them through Media Source Extensions; the overlay names the
// officer; a seek to the middle (past what was fetched) and one back into
// evicted video both play; the key is not extractable; leaving the page
// pauses and blurs the picture.
func TestPlayerInTheBrowser(t *testing.T) {
	cfg, k, d, svc := playerDaemon(t, 20)
	const seconds = 200 // longer than the player's 60 s read-ahead, so seeks must fetch
	id := storeClip(t, cfg, k, fragmentedClip(t, seconds), "officer.choi", "SG-2026-000321")
	_, pw, err := svc.CreateUser(context.Background(), account.Actor{Name: "test"},
		account.NewUser{Username: "officer.choi", Role: "officer", FullName: "최지훈", Affiliation: "서울중부경찰서"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := daemontest.Browser(t)
	d.SignInFirstTime(t, ctx, "officer.choi", pw, "Cheonggyecheon 9 herons!")
	base := "https://" + d.Addrs.Web.String()
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/packages/"+id+"/play"), chromedp.WaitVisible(chromedp.ID("video"))); err != nil {
		t.Fatal(err)
	}
	playerWait(t, ctx, "playing past 2 s", `document.getElementById('video').currentTime > 2`, 40*time.Second)

	if o := pageJS(t, ctx, `document.getElementById('overlay').textContent`); !strings.Contains(o, "최지훈") || !strings.Contains(o, "SG-2026-000321") {
		t.Errorf("the overlay says %q", o)
	}
	if facts := pageJS(t, ctx, `document.getElementById('player').keyFacts().then(f => JSON.stringify(f))`); facts !=
		`{"type":"secret","algorithm":"AES-GCM","extractable":false,"usages":["decrypt"],"exportRefused":true}` {
		t.Errorf("the payload key: %s", facts)
	}
	if d := pageJS(t, ctx, `String(Math.round(document.getElementById('video').duration))`); d != strconv.Itoa(seconds) {
		t.Errorf("duration %s s, want %d (from the clip's fragment index)", d, seconds)
	}
	if got := pageJS(t, ctx, `String(document.getElementById('video').buffered.end(0) < 120)`); got != "true" {
		t.Errorf("the player read far ahead: buffered %s", pageJS(t, ctx, buffered))
	}

	// The middle is past what was fetched: the player jumps to its fragment.
	pageJS(t, ctx, `String(document.getElementById('video').currentTime = 100)`)
	playerWait(t, ctx, "playing past the middle", `document.getElementById('video').currentTime > 101.5`, 30*time.Second)
	if got := pageJS(t, ctx, `String(document.getElementById('video').buffered.start(0) > 30)`); got != "true" {
		t.Errorf("video far behind playback was kept: buffered %s", pageJS(t, ctx, buffered))
	}
	// Back to the start, which was evicted: fetched again.
	pageJS(t, ctx, `String(document.getElementById('video').currentTime = 10)`)
	playerWait(t, ctx, "playing after a seek back", `document.getElementById('video').currentTime > 11.5 && document.getElementById('video').currentTime < 30`, 30*time.Second)

	// Leaving the page (the window loses focus, or the tab is hidden)
	// pauses and blurs the picture.
	pageJS(t, ctx, `window.dispatchEvent(new Event('blur')), ''`)
	playerWait(t, ctx, "paused on blur", `document.getElementById('video').paused && document.getElementById('stage').classList.contains('concealed')`, 5*time.Second)
	pageJS(t, ctx, `document.getElementById('video').play().then(() => '')`)
	playerWait(t, ctx, "playing again", `!document.getElementById('video').paused && !document.getElementById('stage').classList.contains('concealed')`, 5*time.Second)
	pageJS(t, ctx, `Object.defineProperty(document, 'hidden', {value: true, configurable: true}), document.dispatchEvent(new Event('visibilitychange')), ''`)
	playerWait(t, ctx, "paused when hidden", `document.getElementById('video').paused && document.getElementById('stage').classList.contains('concealed')`, 5*time.Second)
	if got := pageJS(t, ctx, `String(!document.getElementById('video').dispatchEvent(new MouseEvent('contextmenu', {bubbles: true, cancelable: true})))`); got != "true" {
		t.Error("the video's context menu was not refused")
	}
	if got := pageJS(t, ctx, `document.getElementById('video').getAttribute('controlslist')`); !strings.Contains(got, "nodownload") {
		t.Errorf("controlslist %q", got)
	}

	pool, err := pgxpool.New(context.Background(), cfg.Database.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	var plays int
	pool.QueryRow(context.Background(), `SELECT count(*) FROM audit_log WHERE action = 'license.release' AND actor = 'officer.choi' AND target = $1`, id).Scan(&plays)
	if plays != 1 {
		t.Errorf("%d license releases audited, want 1", plays)
	}
}

// pageJS evaluates expr in the page: a string, or a promise of one.
func pageJS(t *testing.T, ctx context.Context, expr string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return s
}

// playerWait waits until cond holds on the player page, saying what the
// player shows if it does not within timeout.
func playerWait(t *testing.T, ctx context.Context, what, cond string, timeout time.Duration) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Poll[chromedp.Void](cond, chromedp.WithPollingTimeout(timeout))); err != nil {
		t.Fatalf("%s: %v; the page says %q, video at %s, buffered %s", what, err, pageJS(t, ctx, `document.getElementById('player-status').textContent`),
			pageJS(t, ctx, `String(document.getElementById('video').currentTime)`), pageJS(t, ctx, buffered))
	}
}

const buffered = `(() => { const b = document.getElementById('video').buffered; let s = []; for (let i = 0; i < b.length; i++) s.push(b.start(i).toFixed(1) + '-' + b.end(i).toFixed(1)); return s.join(' '); })()`

// licenseClient speaks to the license endpoint as the page does: JSON,
// the session cookie and the CSRF token (cookie and header).
type licenseClient struct {
	base, session string
	http          *http.Client
}

const testCSRF = "sealgate-test-csrf-token-0123456789abcdefgh" // 43 characters, as web.CSRF makes them

func newLicenseClient(d *daemontest.Daemon, session string) *licenseClient {
	return &licenseClient{base: "https://" + d.Addrs.Web.String(), session: session, http: &http.Client{Timeout: 20 * time.Second,
		Transport:     &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, // the daemon's self-signed certificate
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (c *licenseClient) do(t *testing.T, method, path, rng string, body []byte) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, c.base+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", testCSRF)
	req.AddCookie(&http.Cookie{Name: web.CSRFCookie, Value: testCSRF})
	if c.session != "" {
		req.AddCookie(&http.Cookie{Name: accountui.SessionCookie, Value: c.session})
	}
	if rng != "" {
		req.Header.Set("Range", rng)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// license posts a public key (raw bytes) and returns the status and body.
func (c *licenseClient) license(t *testing.T, id string, pub []byte) (int, []byte) {
	t.Helper()
	body, _ := json.Marshal(map[string][]byte{"public_key": pub})
	resp, b := c.do(t, http.MethodPost, "/packages/"+id+"/license", "", body)
	return resp.StatusCode, b
}

// TestLicenseOverHTTPS: the license endpoint of a real outerd refuses a
// request without a session, one half-way through signing in, another
// officer, a malformed key, the play after the last and a destroyed
// package; a release decrypts chunk 0 of what the media route serves, and
// the media route serves only a licensed session.
func TestLicenseOverHTTPS(t *testing.T) {
	cfg, k, d, svc := playerDaemon(t, 2)
	ctx := context.Background()
	clip := fragmentedClip(t, 4)
	id := storeClip(t, cfg, k, clip, "officer.kim", "SG-2026-000401")
	gone := storeClip(t, cfg, k, fragmentedClip(t, 3), "officer.kim", "SG-2026-000402")
	session := func(name, stage string) string {
		t.Helper()
		u, err := svc.ByName(ctx, name)
		if err != nil {
			u, _, err = svc.CreateUser(ctx, account.Actor{Name: "test"}, account.NewUser{Username: name, Role: "officer", FullName: name})
		}
		if err != nil {
			t.Fatal(err)
		}
		tok, err := svc.StartSession(ctx, u, stage, "127.0.0.1", "test")
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	kim, kimHalf, park := session("officer.kim", account.StageOK), session("officer.kim", account.StageTOTP), session("officer.park", account.StageOK)
	key, _ := ecdh.P256().GenerateKey(rand.Reader)
	pub := key.PublicKey().Bytes()

	if code, _ := newLicenseClient(d, "").license(t, id, pub); code != http.StatusUnauthorized {
		t.Errorf("no session: %d, want 401", code)
	}
	if resp, _ := newLicenseClient(d, "").do(t, http.MethodGet, "/packages/"+id+"/media", "bytes=0-99", nil); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("media without a session: %d, want a redirect to sign in", resp.StatusCode)
	}
	if code, _ := newLicenseClient(d, kimHalf).license(t, id, pub); code != http.StatusForbidden {
		t.Errorf("a session before its TOTP: %d, want 403", code)
	}
	if code, _ := newLicenseClient(d, park).license(t, id, pub); code != http.StatusNotFound {
		t.Errorf("another officer: %d, want 404", code)
	}
	if resp, _ := newLicenseClient(d, park).do(t, http.MethodGet, "/packages/"+id+"/play", "", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("another officer's player page: %d, want 404", resp.StatusCode)
	}
	if code, b := newLicenseClient(d, kim).license(t, id, pub[:33]); code != http.StatusBadRequest || !strings.Contains(string(b), "player.bad_key") {
		t.Errorf("a malformed key: %d %s", code, b)
	}
	if resp, _ := newLicenseClient(d, kim).do(t, http.MethodGet, "/packages/"+id+"/media", "bytes=0-99", nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("media before a license: %d, want 403", resp.StatusCode)
	}
	resp, _ := newLicenseClient(d, kim).do(t, http.MethodGet, "/packages/"+id+"/play", "", nil)
	if csp := resp.Header.Get("Content-Security-Policy"); resp.StatusCode != http.StatusOK || !strings.Contains(csp, "script-src 'self';") ||
		!strings.Contains(csp, "media-src 'self' blob:") {
		t.Errorf("the player page: %d, CSP %q", resp.StatusCode, csp)
	}

	code, b := newLicenseClient(d, kim).license(t, id, pub)
	if code != http.StatusOK {
		t.Fatalf("the license: %d %s", code, b)
	}
	var lic license.License
	if err := json.Unmarshal(b, &lic); err != nil {
		t.Fatal(err)
	}
	payloadKey := unwrapLicense(t, key, &lic)
	end := lic.PayloadOffset + int64(seal.ChunkSize) + 16 - 1
	resp, sealed := newLicenseClient(d, kim).do(t, http.MethodGet, "/packages/"+id+"/media", fmt.Sprintf("bytes=%d-%d", lic.PayloadOffset, end), nil)
	if resp.StatusCode != http.StatusPartialContent || resp.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("media: %d %v", resp.StatusCode, resp.Header)
	}
	block, _ := aes.NewCipher(payloadKey)
	gcm, _ := cipher.NewGCM(block)
	plain, err := gcm.Open(nil, make([]byte, 12), sealed, nil)
	video, _ := os.ReadFile(clip)
	if err != nil || !bytes.Equal(plain, video[:seal.ChunkSize]) {
		t.Fatalf("chunk 0 from the media route does not decrypt to the clip: %v", err)
	}
	if resp, _ := newLicenseClient(d, session("officer.kim", account.StageOK)).do(t, http.MethodGet, "/packages/"+id+"/media", "bytes=0-99", nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("media for another session of the same officer: %d, want 403", resp.StatusCode)
	}

	if code, _ := newLicenseClient(d, kim).license(t, id, pub); code != http.StatusOK {
		t.Fatalf("the second play: %d", code)
	}
	if code, b := newLicenseClient(d, kim).license(t, id, pub); code != http.StatusForbidden || !strings.Contains(string(b), "player.play_limit") {
		t.Errorf("past the play count: %d %s", code, b)
	}

	pool, err := pgxpool.New(ctx, cfg.Database.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, err := pkgstore.New(pool, audit.New(pool, k.Secrets.Audit)).Destroy(ctx, gone, "admin.lee", "revoked: 수사 종결"); err != nil {
		t.Fatal(err)
	}
	if code, _ := newLicenseClient(d, kim).license(t, gone, pub); code != http.StatusGone {
		t.Errorf("a destroyed package: %d, want 410", code)
	}
	if resp, _ := newLicenseClient(d, kim).do(t, http.MethodGet, "/packages/"+gone+"/play", "", nil); resp.StatusCode != http.StatusGone {
		t.Errorf("a destroyed package's player: %d, want 410", resp.StatusCode)
	}

	m := d.Metrics(t)
	for _, want := range []string{`sealgate_license_requests_total{result="released"} 2`, `sealgate_license_requests_total{result="not_found"} 1`,
		`sealgate_license_requests_total{result="bad_key"} 1`, `sealgate_license_requests_total{result="play_limit"} 1`,
		`sealgate_license_requests_total{result="destroyed"} 1`} {
		if !strings.Contains(m, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	var refused int
	pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'license.refuse' AND outcome = 'denied'`).Scan(&refused)
	if refused != 4 {
		t.Errorf("%d refusals audited, want 4", refused)
	}
}

// unwrapLicense opens a license with the client's key, as the page does in
// WebCrypto (docs/portal.md, "Player and license").
func unwrapLicense(t *testing.T, k *ecdh.PrivateKey, lic *license.License) []byte {
	t.Helper()
	server, err := ecdh.P256().NewPublicKey(lic.ServerKey)
	if err != nil {
		t.Fatal(err)
	}
	secret, err := k.ECDH(server)
	if err != nil {
		t.Fatal(err)
	}
	kek, err := hkdf.Key(sha256.New, secret, lic.Salt, lic.Info, 32)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := aes.NewCipher(kek)
	gcm, _ := cipher.NewGCM(block)
	key, err := gcm.Open(nil, lic.IV, lic.WrappedKey, []byte(lic.Info))
	if err != nil {
		t.Fatalf("the wrapped key does not open: %v", err)
	}
	return key
}
