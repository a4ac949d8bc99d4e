package license_test

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
	"encoding/hex"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"sealgate/outer/license"
	"sealgate/outer/pkgstore"
	"sealgate/outer/store"
	"sealgate/shared/audit"
	"sealgate/shared/keys"
	"sealgate/shared/pgdb/pgtest"
	"sealgate/shared/seal"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// fixture is a real outer database and package store with packages sealed
// to a real license key, and the license service over them.
type fixture struct {
	pool    *pgxpool.Pool
	records *pkgstore.Store
	dir     *pkgstore.Dir
	key     hpke.PrivateKey
	signer  ed25519.PrivateKey
	reg     *prometheus.Registry
	svc     *license.Service
	now     time.Time
}

func newFixture(t *testing.T, maxPlays int) *fixture {
	t.Helper()
	f := &fixture{pool: pgtest.NewPool(t, store.Migrations()), reg: prometheus.NewRegistry(), now: time.Now().UTC().Truncate(time.Second)}
	auditKey := make([]byte, 32)
	rand.Read(auditKey)
	log := audit.New(f.pool, auditKey)
	f.records = pkgstore.New(f.pool, log)
	var err error
	if f.dir, err = pkgstore.OpenDir(t.TempDir(), f.records); err != nil {
		t.Fatal(err)
	}
	if f.key, err = keys.LicenseKEM().GenerateKey(); err != nil {
		t.Fatal(err)
	}
	_, f.signer, _ = ed25519.GenerateKey(rand.Reader)
	f.svc, err = license.New(license.Config{DB: f.pool, Store: f.records, Audit: log, Key: f.key, MaxPlays: maxPlays, Metrics: f.reg,
		Log: slog.New(slog.DiscardHandler), Now: func() time.Time { return f.now }})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// keep seals video to the license key for officer with the window
// [from, until) around now, and keeps it in the store as the receiver does.
func (f *fixture) keep(t *testing.T, video []byte, officer string, from, until time.Duration) string {
	t.Helper()
	sum := sha256.Sum256(video)
	m := seal.Manifest{ExportID: "e-" + hex.EncodeToString(sum[:4]), ExportCode: "SG-2026-000777", Recipient: seal.Recipient{Name: officer, Agency: "강남경찰서"},
		ViewFrom: f.now.Add(from), ViewUntil: f.now.Add(until), DeliveredSHA256: hex.EncodeToString(sum[:]), MediaType: "video/mp4"}
	var pkg bytes.Buffer
	sealed, err := seal.Seal(&pkg, bytes.NewReader(video), int64(len(video)), m, seal.Options{Signer: f.signer, Recipients: []hpke.PublicKey{f.key.PublicKey()}})
	if err != nil {
		t.Fatal(err)
	}
	id := sha256.Sum256(pkg.Bytes())
	data, _ := f.dir.Incoming(id)
	if err := os.WriteFile(data, pkg.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := f.dir.Keep(context.Background(), "city-hall", id, int64(pkg.Len()), data, sealed); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(id[:])
}

func randomVideo(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func clientKey(t *testing.T) *ecdh.PrivateKey {
	t.Helper()
	k, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func (f *fixture) request(officer, id string, k *ecdh.PrivateKey) license.Request {
	return license.Request{Account: officer, PackageID: id, ClientKey: k.PublicKey().Bytes(), Remote: "192.0.2.7", Session: []byte("session-" + officer)}
}

// count reads one result's counter from the registry.
func (f *fixture) count(result string) float64 {
	mfs, err := f.reg.Gather()
	if err != nil {
		panic(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			if mf.GetName() == "sealgate_license_requests_total" && m.GetLabel()[0].GetValue() == result {
				return m.GetCounter().GetValue()
			}
		}
	}
	return -1
}

// audited counts audit entries of action with outcome.
func (f *fixture) audited(t *testing.T, action, outcome string) int {
	t.Helper()
	var n int
	if err := f.pool.QueryRow(context.Background(), `SELECT count(*) FROM audit_log WHERE action = $1 AND outcome = $2`, action, outcome).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// unwrap opens a license with the client's private key the way the page
// does in WebCrypto, written here from docs/portal.md alone.
func unwrap(t *testing.T, k *ecdh.PrivateKey, lic *license.License) []byte {
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
		t.Fatalf("the wrapped key does not open with the client's key: %v", err)
	}
	return key
}

// TestReleaseOpensChunkZero: the released key, unwrapped with the
// client's private key, decrypts chunk 0 of the stored package with the
// STREAM nonce; the play is recorded and audited, and only this session
// may then fetch the package's bytes.
func TestReleaseOpensChunkZero(t *testing.T) {
	f := newFixture(t, 20)
	ctx := context.Background()
	video := randomVideo(3*seal.ChunkSize + 5)
	id := f.keep(t, video, "officer.kim", -time.Hour, 24*time.Hour)
	k := clientKey(t)
	if _, err := f.svc.Media(ctx, "officer.kim", id, []byte("session-officer.kim")); !errors.Is(err, license.ErrNoLicense) {
		t.Fatalf("media before any license: %v", err)
	}
	lic, err := f.svc.Release(ctx, f.request("officer.kim", id, k))
	if err != nil {
		t.Fatal(err)
	}
	if lic.Chunks != 4 || lic.PayloadSize != int64(len(video)) || lic.ChunkSize != seal.ChunkSize || lic.MediaType != "video/mp4" ||
		lic.Play != 1 || lic.MaxPlays != 20 || lic.Info != license.InfoPrefix+id {
		t.Fatalf("license: %+v", lic)
	}
	key := unwrap(t, k, lic)
	pkg, err := os.ReadFile(filepath.Join(filepath.Dir(f.dir.Path([32]byte{})), id+".sgpkg"))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := aes.NewCipher(key)
	gcm, _ := cipher.NewGCM(block)
	nonce := make([]byte, 12) // chunk 0, not the last
	chunk0, err := gcm.Open(nil, nonce, pkg[lic.PayloadOffset:lic.PayloadOffset+seal.ChunkSize+16], nil)
	if err != nil || !bytes.Equal(chunk0, video[:seal.ChunkSize]) {
		t.Fatalf("chunk 0 does not decrypt to the video's first 64 KiB: %v", err)
	}
	if n := f.audited(t, "license.release", audit.OK); n != 1 {
		t.Errorf("%d releases audited, want 1", n)
	}
	if f.count("released") != 1 {
		t.Errorf("released counter %v", f.count("released"))
	}
	if _, err := f.svc.Media(ctx, "officer.kim", id, []byte("session-officer.kim")); err != nil {
		t.Errorf("media after the license: %v", err)
	}
	if _, err := f.svc.Media(ctx, "officer.kim", id, []byte("another session")); !errors.Is(err, license.ErrNoLicense) {
		t.Errorf("media for another session: %v", err)
	}
	f.now = f.now.Add(license.MediaGrant + time.Minute)
	if _, err := f.svc.Media(ctx, "officer.kim", id, []byte("session-officer.kim")); !errors.Is(err, license.ErrNoLicense) {
		t.Errorf("media after the grant ran out: %v", err)
	}
}

// TestRefusesAnotherOfficer: a package addressed to someone else is not
// found, whether it exists or not, and the refusal is audited and counted.
func TestRefusesAnotherOfficer(t *testing.T) {
	f := newFixture(t, 20)
	id := f.keep(t, randomVideo(1000), "officer.kim", -time.Hour, time.Hour)
	_, err := f.svc.Release(context.Background(), f.request("officer.park", id, clientKey(t)))
	if !errors.Is(err, pkgstore.ErrNotFound) || errors.Is(err, license.ErrOutsideWindow) {
		t.Fatalf("another officer: %v", err)
	}
	if _, err := f.svc.Release(context.Background(), f.request("officer.park", "00ff", clientKey(t))); !errors.Is(err, pkgstore.ErrNotFound) {
		t.Fatalf("no such package: %v", err)
	}
	if f.count("not_found") != 2 || f.audited(t, "license.refuse", audit.Denied) != 2 {
		t.Errorf("not_found %v, refusals audited %d", f.count("not_found"), f.audited(t, "license.refuse", audit.Denied))
	}
}

// TestRefusesOutsideWindow: before the window the package is not found
// (its existence is not told early); after it, gone, even before the
// expiry sweep has destroyed it. Both are outside_window.
func TestRefusesOutsideWindow(t *testing.T) {
	f := newFixture(t, 20)
	early := f.keep(t, randomVideo(1000), "officer.kim", time.Hour, 48*time.Hour)
	late := f.keep(t, randomVideo(2000), "officer.kim", -48*time.Hour, -time.Minute)
	_, err := f.svc.Release(context.Background(), f.request("officer.kim", early, clientKey(t)))
	if !errors.Is(err, license.ErrOutsideWindow) || !errors.Is(err, pkgstore.ErrNotFound) {
		t.Fatalf("before the window: %v", err)
	}
	_, err = f.svc.Release(context.Background(), f.request("officer.kim", late, clientKey(t)))
	if !errors.Is(err, license.ErrOutsideWindow) || !errors.Is(err, pkgstore.ErrDestroyed) {
		t.Fatalf("after the window: %v", err)
	}
	if f.count("outside_window") != 2 || f.count("released") != 0 {
		t.Errorf("outside_window %v", f.count("outside_window"))
	}
}

// TestRefusesOverPlayCount: the plays are counted per officer and
// package; at the last play, parallel requests race and exactly one wins.
func TestRefusesOverPlayCount(t *testing.T) {
	const plays = 3
	f := newFixture(t, plays)
	ctx := context.Background()
	id := f.keep(t, randomVideo(5000), "officer.kim", -time.Hour, time.Hour)
	for range plays - 1 {
		if _, err := f.svc.Release(ctx, f.request("officer.kim", id, clientKey(t))); err != nil {
			t.Fatal(err)
		}
	}
	const racers = 8
	var wg sync.WaitGroup
	errs := make(chan error, racers)
	for range racers {
		wg.Go(func() {
			_, err := f.svc.Release(ctx, f.request("officer.kim", id, clientKey(t)))
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	won := 0
	for err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, license.ErrPlayLimit):
			t.Errorf("a racer failed otherwise: %v", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d racers took the last play, want 1", won)
	}
	var n int
	f.pool.QueryRow(ctx, `SELECT count(*) FROM plays`).Scan(&n)
	if n != plays || f.count("play_limit") != racers-1 || f.audited(t, "license.release", audit.OK) != plays {
		t.Fatalf("%d plays recorded, play_limit %v", n, f.count("play_limit"))
	}
}

// TestRefusesDestroyed: a revoked package is gone (410).
func TestRefusesDestroyed(t *testing.T) {
	f := newFixture(t, 20)
	id := f.keep(t, randomVideo(1000), "officer.kim", -time.Hour, time.Hour)
	if _, err := f.records.Destroy(context.Background(), id, "admin.lee", "revoked: 수사 종결"); err != nil {
		t.Fatal(err)
	}
	_, err := f.svc.Release(context.Background(), f.request("officer.kim", id, clientKey(t)))
	if !errors.Is(err, pkgstore.ErrDestroyed) || errors.Is(err, license.ErrOutsideWindow) || f.count("destroyed") != 1 {
		t.Fatalf("destroyed: %v", err)
	}
}

// TestRefusesMalformedKey: a key that is not a P-256 point is refused
// before any play is counted.
func TestRefusesMalformedKey(t *testing.T) {
	f := newFixture(t, 20)
	ctx := context.Background()
	id := f.keep(t, randomVideo(1000), "officer.kim", -time.Hour, time.Hour)
	good := clientKey(t).PublicKey().Bytes()
	offCurve := bytes.Clone(good)
	offCurve[64] ^= 1
	x25519, _ := ecdh.X25519().GenerateKey(rand.Reader)
	for name, key := range map[string][]byte{"empty": nil, "off the curve": offCurve, "compressed": append([]byte{2}, good[1:33]...),
		"x25519": x25519.PublicKey().Bytes(), "identity": {0}} {
		r := f.request("officer.kim", id, clientKey(t))
		r.ClientKey = key
		if _, err := f.svc.Release(ctx, r); !errors.Is(err, license.ErrBadKey) {
			t.Errorf("%s: %v", name, err)
		}
	}
	var n int
	f.pool.QueryRow(ctx, `SELECT count(*) FROM plays`).Scan(&n)
	if n != 0 || f.count("bad_key") != 5 {
		t.Fatalf("%d plays after bad keys, bad_key %v", n, f.count("bad_key"))
	}
}

// TestMetricsExportEveryResult: each result's series exists from the start.
func TestMetricsExportEveryResult(t *testing.T) {
	f := newFixture(t, 20)
	mfs, err := f.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "sealgate_license_requests_total" {
			if n := len(mf.GetMetric()); n != len(license.Results) {
				t.Fatalf("%d series, want %d", n, len(license.Results))
			}
			return
		}
	}
	t.Fatal("sealgate_license_requests_total is not exported")
}
