package outerd_test

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ed25519"
	"crypto/hpke"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5/pgxpool"

	"sealgate/appliance/daemon"
	"sealgate/appliance/daemon/daemontest"
	"sealgate/appliance/outerd"
	"sealgate/outer/expiry"
	"sealgate/outer/pkgstore"
	"sealgate/shared/account"
	"sealgate/shared/audit"
	"sealgate/shared/config"
	"sealgate/shared/keys"
	"sealgate/shared/pgdb/pgtest"
	"sealgate/shared/seal"
	"sealgate/transfer/transfertest"
)

// portal is a running outer daemon paired with one inner appliance
// (city-hall), whose packages the test seals with that inner's signing key
// and keeps in the store as the receiver does.
type portal struct {
	d      *daemontest.Daemon
	cfg    *config.Outer
	inner  *keys.Inner
	outer  *keys.Outer
	svc    *account.Service
	pool   *pgxpool.Pool
	store  *pkgstore.Store
	dir    *pkgstore.Dir
	sealed string // where sealed packages are written before they "arrive"
}

func startPortal(t testing.TB) *portal {
	t.Helper()
	cfg, _, ik, ok := portalConfig(t)
	return attach(t, daemontest.Start(t, serveOuter(cfg)), cfg, ik, ok)
}

// serveOuter runs outerd on cfg, for [daemontest.Start].
func serveOuter(cfg *config.Outer) func(context.Context, func(daemon.Addrs)) error {
	return func(ctx context.Context, started func(daemon.Addrs)) error {
		return outerd.Serve(ctx, cfg, io.Discard, slog.New(slog.DiscardHandler), started)
	}
}

// restart stops the daemon and starts it again on the same configuration,
// database and store, as after downtime (its addresses change).
func (p *portal) restart(t testing.TB) {
	t.Helper()
	p.d.Stop(t)
	p.d = daemontest.Start(t, serveOuter(p.cfg))
}

// portalConfig writes an outer config (file at path) on a fresh database,
// with keys, paired with a new inner appliance's keys.
func portalConfig(t testing.TB) (cfg *config.Outer, path string, ik *keys.Inner, ok *keys.Outer) {
	t.Helper()
	dir := daemontest.DataDir(t)
	innerKeys := filepath.Join(dir, "inner-keys")
	if err := keys.InitInner(innerKeys); err != nil {
		t.Fatal(err)
	}
	ik, err := keys.LoadInner(innerKeys)
	if err != nil {
		t.Fatal(err)
	}
	path = filepath.Join(dir, "outer.yaml")
	os.WriteFile(path, []byte(fmt.Sprintf(`data_dir: data
portal: {listen: "127.0.0.1:0"}
metrics: {listen: "127.0.0.1:0"}
transfer:
  listen: ""
  quota_gb: 5
  peers:
    - name: city-hall
      transfer_fingerprint: %s
      signing_pub: inner-keys/signing.pub
`, transfertest.CertFP(ik.Transfer.Certificate[0]))), 0o600)
	if cfg, err = config.LoadOuter(path, nil); err != nil {
		t.Fatal(err)
	}
	cfg.Database.URL = pgtest.NewDatabase(t, nil)
	if err := keys.InitOuter(cfg.KeyDir); err != nil {
		t.Fatal(err)
	}
	if ok, err = keys.LoadOuter(cfg.KeyDir); err != nil {
		t.Fatal(err)
	}
	return cfg, path, ik, ok
}

// attach connects the test to the running daemon d's database and store.
func attach(t testing.TB, d *daemontest.Daemon, cfg *config.Outer, ik *keys.Inner, ok *keys.Outer) *portal {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), cfg.Database.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	store := pkgstore.New(pool, audit.New(pool, ok.Audit))
	sd, err := pkgstore.OpenDir(cfg.Transfer.StoreDir, store)
	if err != nil {
		t.Fatal(err)
	}
	sealed := filepath.Join(filepath.Dir(cfg.DataDir), "sealed")
	os.Mkdir(sealed, 0o700)
	return &portal{d: d, cfg: cfg, inner: ik, outer: ok, svc: daemontest.Accounts(t, cfg.Database.URL, outerd.Accounts, &ok.Secrets),
		pool: pool, store: store, dir: sd, sealed: sealed}
}

// arrive seals size bytes of random video under m, signed by city-hall and
// sealed to the outer's license key, and keeps it as the receiver does
// (its file under incoming/, then Keep). It returns the package's id.
func (p *portal) arrive(t testing.TB, m seal.Manifest, size int64) string {
	t.Helper()
	path := filepath.Join(p.sealed, m.ExportCode+".sgpkg")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// The video's hash first (Seal checks nothing of it but its form),
	// then the same bytes again into the seal: a seeded stream, so a
	// 1 GiB package needs no 1 GiB buffer.
	seed := make([]byte, 32)
	rand.Read(seed)
	vh := sha256.New()
	io.Copy(vh, videoReader(seed, size))
	m.DeliveredSHA256 = hex.EncodeToString(vh.Sum(nil))
	ph := sha256.New()
	sealed, err := seal.Seal(io.MultiWriter(f, ph), videoReader(seed, size), size, m,
		seal.Options{Signer: p.inner.Signing, Recipients: []hpke.PublicKey{p.outer.License.PublicKey()}})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	var sum [32]byte
	copy(sum[:], ph.Sum(nil))
	fi, _ := f.Stat()
	data, _ := p.dir.Incoming(sum)
	if err := os.Rename(path, data); err != nil {
		t.Fatal(err)
	}
	if err := p.dir.Keep(context.Background(), "city-hall", sum, fi.Size(), data, sealed); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(sum[:])
}

// videoReader is size bytes of AES-CTR keystream under key seed:
// random-looking video that can be read twice, at memory speed.
func videoReader(seed []byte, size int64) io.Reader {
	block, _ := aes.NewCipher(seed)
	return io.LimitReader(cipher.StreamReader{S: cipher.NewCTR(block, make([]byte, aes.BlockSize)), R: zeros{}}, size)
}

type zeros struct{}

func (zeros) Read(b []byte) (int, error) { clear(b); return len(b), nil }

// user creates a signed-in user of role and returns a client with its session.
func (p *portal) user(t testing.TB, name, role string) *client {
	t.Helper()
	ctx := context.Background()
	u, _, err := p.svc.CreateUser(ctx, account.Actor{Name: "test"}, account.NewUser{Username: name, Role: role, FullName: name})
	if err != nil {
		t.Fatal(err)
	}
	token, err := p.svc.StartSession(ctx, u, account.StageOK, "test", "test")
	if err != nil {
		t.Fatal(err)
	}
	return &client{base: "https://" + p.d.Addrs.Web.String(), token: token, Client: p.d.Client(t), http: &http.Client{
		Timeout:       5 * time.Minute,
		Transport:     &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, MaxIdleConnsPerHost: 200},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// client is a signed-in user: Client posts forms with the CSRF token; get
// shows the response's headers as well.
type client struct {
	*daemontest.Client
	base, token string
	http        *http.Client
}

func (c *client) session() *client { c.SetSession(c.token); return c }

// get sends GET path with the session and the given headers; the caller
// reads and closes the body.
func (c *client) get(t testing.TB, path string, header ...string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.base+path, nil)
	req.AddCookie(&http.Cookie{Name: "__Host-sealgate-session", Value: c.token})
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return resp
}

func (c *client) page(t testing.TB, path string, header ...string) (int, string) {
	t.Helper()
	resp := c.get(t, path, header...)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

var rowID = regexp.MustCompile(`<tr class="package[^"]*" data-id="([0-9a-f]{64})"`)

// listed is the ids of the package rows of a page, in order.
func listed(body string) []string {
	var ids []string
	for _, m := range rowID.FindAllStringSubmatch(body, -1) {
		ids = append(ids, m[1])
	}
	return ids
}

func manifest(code, recipient, camera, location string, from time.Time, until time.Duration) seal.Manifest {
	return seal.Manifest{ExportID: "id-" + code, ExportCode: code, Camera: seal.Camera{Name: camera, Location: location},
		TimeFrom: from, TimeTo: from.Add(10 * time.Minute), ReasonCode: "theft", MediaType: "video/mp4", FileName: code + ".mp4",
		Recipient: seal.Recipient{Name: recipient, Agency: "서울중부경찰서"},
		ViewFrom:  time.Now().Add(-time.Hour), ViewUntil: time.Now().Add(until)}
}

// TestPortalCatalogDownloadAndRevoke: over real HTTPS against a real
// outerd, an officer sees exactly the packages addressed to them and in
// their window, searched and sorted; another officer gets 404 for them;
// downloads resume with Range and are each audited before their bytes;
// an admin revokes one through the form, after which it is 410 and its
// file is gone; the metrics count all of it.
func TestPortalCatalogDownloadAndRevoke(t *testing.T) {
	p := startPortal(t)
	day := time.Date(2026, 11, 3, 14, 0, 0, 0, time.UTC)
	gate := p.arrive(t, manifest("SG-2026-000101", "officer.kim", "정문 CCTV-01", "서울 중구 세종대로 110", day, 7*24*time.Hour), 300<<10)
	bridge := p.arrive(t, manifest("SG-2026-000102", "officer.kim", "Cheonggye Bridge 3", "청계천로 85", day.Add(48*time.Hour), 2*24*time.Hour), 64<<10)
	later := manifest("SG-2026-000103", "officer.kim", "후문", "세종대로 112", day, 9*24*time.Hour)
	later.ViewFrom = time.Now().Add(time.Hour) // not yet in its window
	notYet := p.arrive(t, later, 10<<10)
	theirs := p.arrive(t, manifest("SG-2026-000201", "officer.park", "정문 CCTV-01", "서울 중구 세종대로 110", day, 7*24*time.Hour), 10<<10)

	kim, park, admin := p.user(t, "officer.kim", "officer"), p.user(t, "officer.park", "officer"), p.user(t, "admin.lee", "admin")

	// The officer's home is the catalog.
	if resp := kim.get(t, "/"); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/packages" {
		t.Fatalf("GET / as an officer: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if code, _ := admin.page(t, "/"); code != http.StatusOK {
		t.Fatalf("GET / as an admin: %d", code)
	}

	// Exactly their packages, newest arrival first; search and sort.
	code, body := kim.page(t, "/packages", "Accept-Language", "en")
	if got := listed(body); code != http.StatusOK || !slices.Equal(got, []string{bridge, gate}) {
		t.Fatalf("officer.kim's catalog: %d %v, want [%s %s]", code, got, bridge, gate)
	}
	for _, want := range []string{"정문 CCTV-01", "서울 중구 세종대로 110", "theft", "7 days left", "2 days left",
		"Signature verified on arrival against the pinned signing key of inner appliance city-hall", signerID(p)[:len("sha256:")+16] + "…"} {
		if !strings.Contains(body, want) {
			t.Errorf("the catalog lacks %q", want)
		}
	}
	for query, want := range map[string][]string{
		"?q=bridge": {bridge}, "?q=%EC%A0%95%EB%AC%B8": {gate} /* 정문 */, "?q=sg-2026-0001": {bridge, gate}, "?q=%25": nil,
		"?q=%EC%84%B8%EC%A2%85%EB%8C%80%EB%A1%9C": {gate} /* 세종대로 */, "?sort=days_left": {bridge, gate}, "?sort=footage": {bridge, gate},
		"?sort=footage&q=CCTV": {gate},
	} {
		if _, body := kim.page(t, "/packages"+query); !slices.Equal(listed(body), want) {
			t.Errorf("catalog%s: %v, want %v", query, listed(body), want)
		}
	}
	if !regexp.MustCompile(`<td>30\d\.\d KiB</td>`).MatchString(body) || !strings.Contains(body, "<td>66.0 KiB</td>") {
		t.Errorf("the catalog does not give the sizes of the packages of 300 KiB and 64 KiB of video")
	}
	if _, body := park.page(t, "/packages"); !slices.Equal(listed(body), []string{theirs}) {
		t.Errorf("officer.park's catalog: %v", listed(body))
	}

	// The detail page; 404 for anything not theirs, not yet open, or unknown.
	code, body = kim.page(t, "/packages/"+gate, "Accept-Language", "ko")
	for _, want := range []string{"SG-2026-000101", "절도", "서울중부경찰서", `href="/packages/` + gate + `/package"`, `href="/packages/` + gate + `/play"`,
		"city-hall의 고정된 서명 키로 확인", "sha256:"} {
		if code != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("detail page (%d) lacks %q", code, want)
		}
	}
	for _, c := range []struct {
		who  *client
		path string
	}{{park, "/packages/" + gate}, {park, "/packages/" + gate + "/package"}, {kim, "/packages/" + theirs}, {kim, "/packages/" + notYet},
		{kim, "/packages/" + notYet + "/package"}, {kim, "/packages/" + strings.Repeat("0", 64) + "/package"}, {kim, "/packages/nonsense/package"}} {
		if code, _ := c.who.page(t, c.path); code != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", c.path, code)
		}
	}

	// Whole, a range, and a broken download resumed with If-Range.
	want, err := os.ReadFile(filepath.Join(p.cfg.Transfer.StoreDir, gate+".sgpkg"))
	if err != nil {
		t.Fatal(err)
	}
	resp := kim.get(t, "/packages/"+gate+"/package")
	whole, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	h := resp.Header
	if resp.StatusCode != http.StatusOK || !bytes.Equal(whole, want) || h.Get("Cache-Control") != "no-store" ||
		h.Get("Content-Disposition") != `attachment; filename="SG-2026-000101.sgpkg"` || h.Get("Accept-Ranges") != "bytes" {
		t.Fatalf("whole download: %d, %d bytes (want %d), headers %v", resp.StatusCode, len(whole), len(want), h)
	}
	resp = kim.get(t, "/packages/"+gate+"/package", "Range", "bytes=1000-1999")
	part, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(part, want[1000:2000]) ||
		resp.Header.Get("Content-Range") != fmt.Sprintf("bytes 1000-1999/%d", len(want)) {
		t.Fatalf("range: %d %q, %d bytes", resp.StatusCode, resp.Header.Get("Content-Range"), len(part))
	}
	before := downloads(t, p, gate, audit.OK)
	resp = kim.get(t, "/packages/"+gate+"/package")
	first := make([]byte, 100<<10)
	if _, err := io.ReadFull(resp.Body, first[:1]); err != nil {
		t.Fatal(err)
	}
	// The first byte has arrived: the request is on record already.
	if n := downloads(t, p, gate, audit.OK); n != before+1 {
		t.Fatalf("a download under way is not in the audit log: %d entries, want %d", n, before+1)
	}
	n, _ := io.ReadFull(resp.Body, first[1:])
	resp.Body.Close() // the connection breaks
	got := first[:1+n]
	resp = kim.get(t, "/packages/"+gate+"/package", "Range", fmt.Sprintf("bytes=%d-", len(got)), "If-Range", h.Get("ETag"))
	rest, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(append(got, rest...), want) {
		t.Fatalf("resume from %d: %d, %d bytes", len(got), resp.StatusCode, len(rest))
	}
	if code, _ := kim.page(t, "/packages/"+gate+"/package", "Range", "bytes=1000-999999999"); code != http.StatusPartialContent {
		t.Errorf("a range past the end: %d", code)
	}

	// Each request one entry: four served, and park's refusals on record.
	if n := downloads(t, p, gate, audit.OK); n != 5 {
		t.Errorf("%d downloads of %s audited, want 5", n, gate)
	}
	if n := downloads(t, p, gate, audit.Denied); n != 1 {
		t.Errorf("%d refused downloads of %s audited, want 1 (officer.park's)", n, gate)
	}
	var details []string
	for _, e := range auditOf(t, p, "package.download", gate) {
		details = append(details, e.Actor+" "+e.Detail)
	}
	if joined := strings.Join(details, "\n"); !strings.Contains(joined, "officer.kim export SG-2026-000101, whole of") ||
		!strings.Contains(joined, "range bytes=1000-1999") || !strings.Contains(joined, "officer.park not addressed to this officer") {
		t.Errorf("download audit details:\n%s", joined)
	}

	// An admin revokes through the form: a reason is required.
	admin.session()
	if code, body := admin.Do(t, http.MethodPost, "/admin/packages/"+gate+"/revoke", url.Values{"reason": {"no"}}, true); code != http.StatusBadRequest ||
		!strings.Contains(body, "5") {
		t.Fatalf("revoke without a reason: %d", code)
	}
	if code, _ := admin.Do(t, http.MethodPost, "/admin/packages/"+gate+"/revoke", url.Values{"reason": {"수사 종결 (공문 2026-77)"}}, false); code != http.StatusForbidden {
		t.Fatalf("revoke without the CSRF token: %d", code)
	}
	if code, body := admin.Do(t, http.MethodPost, "/admin/packages/"+gate+"/revoke", url.Values{"reason": {"수사 종결 (공문 2026-77)"}}, true); code != http.StatusOK ||
		!strings.Contains(body, "SG-2026-000101") {
		t.Fatalf("revoke: %d %.300s", code, body)
	}
	if _, err := os.Stat(filepath.Join(p.cfg.Transfer.StoreDir, gate+".sgpkg")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the revoked package's file: %v", err)
	}
	if code, body := kim.page(t, "/packages/"+gate+"/package", "Accept-Language", "en"); code != http.StatusGone || !strings.Contains(body, "수사 종결 (공문 2026-77)") {
		t.Fatalf("download after revocation: %d", code)
	}
	if code, body := kim.page(t, "/packages/"+gate, "Accept-Language", "ko"); code != http.StatusGone || !strings.Contains(body, "파기되었습니다") ||
		!strings.Contains(body, "관리자 회수: 수사 종결 (공문 2026-77)") {
		t.Fatalf("detail after revocation: %d", code)
	}
	if code, _ := park.page(t, "/packages/"+gate+"/package"); code != http.StatusNotFound {
		t.Fatalf("another officer, after revocation: %d, want 404", code)
	}
	if _, body := kim.page(t, "/packages", "Accept-Language", "en"); !slices.Equal(listed(body), []string{bridge, gate}) ||
		!strings.Contains(body, "destroyed") {
		t.Fatalf("catalog after revocation: %v", listed(body))
	}
	if es := auditOf(t, p, "package.destroy", gate); len(es) != 1 || es[0].Actor != "admin.lee" {
		t.Errorf("the revocation is audited as %+v", es)
	}

	// The admin's pages.
	_, body = admin.page(t, "/admin/packages", "Accept-Language", "en")
	if got := listed(body); len(got) != 4 || !strings.Contains(body, "admin.lee: revoked: 수사 종결") || strings.Count(body, `class="revoke"`) != 3 {
		t.Errorf("admin packages: %v", got)
	}
	_, body = admin.page(t, "/admin/peers", "Accept-Language", "en")
	if !strings.Contains(body, `data-peer="city-hall"`) || !strings.Contains(body, transfertest.CertFP(p.inner.Transfer.Certificate[0])) ||
		!strings.Contains(body, signerID(p)) || !strings.Contains(body, `<td class="held">3</td>`) {
		t.Errorf("admin peers page:\n%s", body)
	}
	_, body = admin.page(t, "/admin/storage", "Accept-Language", "ko")
	if !strings.Contains(body, "5.0 GiB") || !strings.Contains(body, "1.0 GiB") || !strings.Contains(body, "SG-2026-000201") || !strings.Contains(body, `href="/audit"`) {
		t.Errorf("admin storage page:\n%s", body)
	}

	m := p.d.Metrics(t)
	for _, want := range []string{`sealgate_portal_downloads_total{result="whole"} 2`, `sealgate_portal_downloads_total{result="range"} 3`,
		`sealgate_portal_downloads_total{result="refused"} 5`, `sealgate_portal_downloads_total{result="gone"} 1`,
		`sealgate_expiry_destroyed_total{cause="revoked"} 1`, `sealgate_portal_packages{state="destroyed"} 1`, `sealgate_portal_packages{state="available"} 3`,
		`sealgate_portal_peer_arrivals_total{peer="city-hall"} 4`, `sealgate_portal_peer_held_packages{peer="city-hall"} 3`, "sealgate_portal_download_bytes_total "} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

// signerID is the id of city-hall's signing key, as manifests name it.
func signerID(p *portal) string { return seal.KeyID(p.inner.Signing.Public().(ed25519.PublicKey)) }

// downloads counts the audited download requests of id with outcome.
func downloads(t testing.TB, p *portal, id, outcome string) int {
	t.Helper()
	n := 0
	for _, e := range auditOf(t, p, "package.download", id) {
		if e.Outcome == outcome {
			n++
		}
	}
	return n
}

// auditOf is the audit log's entries of action on target, oldest first.
func auditOf(t testing.TB, p *portal, action, target string) []audit.Entry {
	t.Helper()
	es, err := audit.New(p.pool, p.outer.Audit).Query(context.Background(), audit.Filter{Action: action, Limit: 10000})
	if err != nil {
		t.Fatal(err)
	}
	var mine []audit.Entry
	for _, e := range slices.Backward(es) {
		if e.Target == target {
			mine = append(mine, e)
		}
	}
	return mine
}

// TestBrowserCatalog: in headless Chromium an officer signs in (password
// and TOTP), lands on their catalog, narrows it with the search form, and
// sees a revoked package as destroyed, in English and in Korean.
func TestBrowserCatalog(t *testing.T) {
	p := startPortal(t)
	day := time.Date(2026, 11, 3, 14, 0, 0, 0, time.UTC)
	p.arrive(t, manifest("SG-2026-000301", "officer.han", "정문 CCTV-01", "서울 중구 세종대로 110", day, 7*24*time.Hour), 10<<10)
	p.arrive(t, manifest("SG-2026-000302", "officer.han", "Cheonggye Bridge 3", "청계천로 85", day, 7*24*time.Hour), 10<<10)
	gone := p.arrive(t, manifest("SG-2026-000303", "officer.han", "후문", "세종대로 112", day, 7*24*time.Hour), 10<<10)
	p.arrive(t, manifest("SG-2026-000401", "officer.oh", "후문", "세종대로 112", day, 7*24*time.Hour), 10<<10)
	if _, err := expiry.Revoke(context.Background(), p.store, "admin.lee", gone, "잘못된 수신자"); err != nil {
		t.Fatal(err)
	}
	_, pw, err := p.svc.CreateUser(context.Background(), account.Actor{Name: "test"}, account.NewUser{Username: "officer.han", Role: "officer", FullName: "한지민"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := daemontest.Browser(t)
	p.d.SignInFirstTime(t, ctx, "officer.han", pw, "Cheonggyecheon 9 herons!")

	// rows waits until the page satisfies ready, then reads the catalog's
	// rows: the export code and the state of each.
	rows := func(ready string) []string {
		t.Helper()
		// A navigation under way fails an evaluation: ask again.
		for end := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](ready+` && document.readyState === 'complete' && !!document.getElementById('packages')`))
			if err == nil && ok {
				break
			}
			if time.Now().After(end) {
				t.Fatalf("waiting for %s: %v", ready, err)
			}
		}
		got, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#packages tr.package')].map(r => r.cells[0].textContent.trim() + ' ' + r.querySelector('.state').textContent.trim())`))
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if at, _ := chromedp.Run(ctx, chromedp.Location()); !strings.HasSuffix(at, "/packages") {
		t.Fatalf("signed in at %s, want the catalog", at)
	}
	lang, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.lang`))
	other := map[string]string{"en": "ko", "ko": "en"}[lang]
	destroyed := map[string]string{"en": "destroyed", "ko": "파기됨"}
	if all := rows("true"); len(all) != 3 || !strings.HasPrefix(all[0], "SG-2026-000303 "+destroyed[lang]) || !strings.Contains(all[0], "잘못된 수신자") {
		t.Fatalf("catalog (%s): %q", lang, all)
	}
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID("q"), "bridge"), chromedp.Click(chromedp.ID("go"))); err != nil {
		t.Fatal(err)
	}
	if got := rows(`location.search.includes('q=bridge')`); len(got) != 1 || !strings.HasPrefix(got[0], "SG-2026-000302 "+map[string]string{"en": "available", "ko": "열람 가능"}[lang]) {
		t.Fatalf("search for bridge: %q", got)
	}
	// The other language: the catalog again, the revoked one destroyed in it.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("form.lang button"))); err != nil {
		t.Fatal(err)
	}
	if got := rows(`document.documentElement.lang === '` + other + `'`); len(got) != 3 || !strings.HasPrefix(got[0], "SG-2026-000303 "+destroyed[other]) {
		t.Fatalf("catalog in %s: %q", other, got)
	}
}
