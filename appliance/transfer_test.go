package appliance_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/hpke"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sealgate/appliance/daemon"
	"sealgate/appliance/daemon/daemontest"
	"sealgate/appliance/innerd"
	"sealgate/appliance/outerd"
	"sealgate/inner/child"
	"sealgate/shared/config"
	"sealgate/shared/keys"
	"sealgate/shared/pgdb/pgtest"
	"sealgate/shared/seal"
	"sealgate/transfer"
	"sealgate/transfer/transfertest"
)

// TestMain also lets the test binary act as sealgate-inner when a daemon
// under test starts it as a confined child (the render, the cut, a trace).
func TestMain(m *testing.M) {
	if os.Getenv(child.Env) != "" {
		os.Exit(innerd.Main(context.Background(), os.Args[1:], os.Stdout, os.Stderr, os.Environ()))
	}
	os.Exit(daemontest.Main(m))
}

func freeUDP(t *testing.T) string {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	return pc.LocalAddr().String()
}

func mainOf(t *testing.T, m func(context.Context, []string, io.Writer, io.Writer, []string) int, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	if code := m(context.Background(), args, &out, &errb, nil); code != 0 {
		t.Fatalf("%v: exit %d: %s", args, code, errb.String())
	}
	return out.String()
}

// pairedConfigs writes inner.yaml and outer.yaml in dir for daemons paired
// with each other (keys in dir/inner-keys and dir/outer-keys), the outer's
// receiver on a free loopback port; innerTransfer adds lines under the
// inner's transfer section.
func pairedConfigs(t *testing.T, dir string, ik *keys.Inner, ok *keys.Outer, innerTransfer string) (inner, outer string) {
	t.Helper()
	udp := freeUDP(t)
	write := func(name, body string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	outer = write("outer.yaml", fmt.Sprintf(`data_dir: outer
key_dir: outer-keys
portal: {listen: "127.0.0.1:0"}
metrics: {listen: "127.0.0.1:0"}
transfer:
  listen: %q
  peers:
    - name: city-hall
      transfer_fingerprint: %s
      signing_pub: inner-keys/signing.pub
`, udp, transfertest.CertFP(ik.Transfer.Certificate[0])))
	inner = write("inner.yaml", fmt.Sprintf(`data_dir: inner
key_dir: inner-keys
console: {listen: "127.0.0.1:0"}
metrics: {listen: "127.0.0.1:0"}
transfer:
  outer_address: %q
  outer_fingerprint: %s
%s`, udp, transfertest.CertFP(ok.Transfer.Certificate[0]), innerTransfer))
	return inner, outer
}

// TestPairedDaemonsDeliverAPackage runs both daemons, paired through their
// configs, and follows one package from `seal` and `outbox add` on the inner
// to `store list` on the outer.
func TestPairedDaemonsDeliverAPackage(t *testing.T) {
	dir := daemontest.DataDir(t)
	innerKeys, outerKeys := filepath.Join(dir, "inner-keys"), filepath.Join(dir, "outer-keys")
	if err := keys.InitInner(innerKeys); err != nil {
		t.Fatal(err)
	}
	if err := keys.InitOuter(outerKeys); err != nil {
		t.Fatal(err)
	}
	ik, _ := keys.LoadInner(innerKeys)
	ok, _ := keys.LoadOuter(outerKeys)
	innerConf, outerConf := pairedConfigs(t, dir, ik, ok, "")
	env := func(prefix string) []string { return []string{prefix + "DATABASE_URL=" + pgtest.NewDatabase(t, nil)} }
	innerEnv, outerEnv := env(config.InnerEnvPrefix), env(config.OuterEnvPrefix)
	icfg, err := config.LoadInner(innerConf, innerEnv)
	if err != nil {
		t.Fatal(err)
	}
	ocfg, err := config.LoadOuter(outerConf, outerEnv)
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.DiscardHandler)
	outer := daemontest.Start(t, func(ctx context.Context, s func(daemon.Addrs)) error {
		return outerd.Serve(ctx, ocfg, io.Discard, quiet, s)
	})
	inner := daemontest.Start(t, func(ctx context.Context, s func(daemon.Addrs)) error {
		return innerd.Serve(ctx, icfg, io.Discard, quiet, s)
	})

	video := make([]byte, 3<<20)
	rand.Read(video)
	vsum := sha256.Sum256(video)
	pkgPath := filepath.Join(dir, "clip.sgpkg")
	var buf bytes.Buffer
	if _, err := seal.Seal(&buf, bytes.NewReader(video), int64(len(video)), seal.Manifest{ExportCode: "SG-2026-000007",
		ExportID: "7d0c5a8e-0f39-4a52-9c1b-2d6e4f1a3b57", Recipient: seal.Recipient{Name: "officer.kim"}, ViewFrom: time.Now().Add(-time.Hour),
		ViewUntil: time.Now().Add(7 * 24 * time.Hour), DeliveredSHA256: hex.EncodeToString(vsum[:])},
		seal.Options{Signer: ik.Signing, Recipients: []hpke.PublicKey{ok.License.PublicKey()}}); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(pkgPath, buf.Bytes(), 0o600)
	psum := sha256.Sum256(buf.Bytes())
	want := hex.EncodeToString(psum[:])

	withEnv := func(m func(context.Context, []string, io.Writer, io.Writer, []string) int, env []string) func(context.Context, []string, io.Writer, io.Writer, []string) int {
		return func(ctx context.Context, a []string, o, e io.Writer, _ []string) int { return m(ctx, a, o, e, env) }
	}
	imain, omain := withEnv(innerd.Main, innerEnv), withEnv(outerd.Main, outerEnv)
	if out := mainOf(t, imain, "outbox", "add", "--config", innerConf, pkgPath, "--json"); !strings.Contains(out, want) {
		t.Fatalf("outbox add: %s", out)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		var listed struct {
			Packages []struct {
				SHA256, State string
				Size          int64
			}
		}
		json.Unmarshal([]byte(mainOf(t, omain, "store", "list", "--config", outerConf, "--json")), &listed)
		if len(listed.Packages) == 1 && listed.Packages[0].SHA256 == want && listed.Packages[0].Size == int64(buf.Len()) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("package not in the outer's store within 30 s: %+v", listed)
		}
		time.Sleep(200 * time.Millisecond)
	}
	var sent struct {
		Packages []struct{ State, Receipt string }
	}
	for end := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		json.Unmarshal([]byte(mainOf(t, imain, "outbox", "list", "--config", innerConf, "--json")), &sent)
		if len(sent.Packages) == 1 && sent.Packages[0].State == "delivered" || time.Now().After(end) {
			break
		}
	}
	if len(sent.Packages) != 1 || sent.Packages[0].State != "delivered" {
		t.Fatalf("outbox list after delivery: %+v", sent)
	}
	// The outer's signed receipt is kept: proof of delivery, verifiable later.
	receipt, _ := hex.DecodeString(sent.Packages[0].Receipt)
	if r, err := transfer.VerifyReceipt(receipt, ok.Transfer.PrivateKey.(ed25519.PrivateKey).Public().(ed25519.PublicKey), psum); err != nil || r.Status != transfer.Stored {
		t.Fatalf("the kept receipt %x: %+v, %v", receipt, r, err)
	}
	if m := outer.Metrics(t); !strings.Contains(m, `sealgate_receive_packages_total{peer="city-hall"} 1`) {
		t.Fatal("outer metrics do not count the package")
	}
	m := inner.Metrics(t)
	for _, want := range []string{`sealgate_outbox_packages{state="delivered"} 1`, `sealgate_outbox_packages{state="queued"} 0`, "sealgate_outbox_depth 0", `sealgate_send_packages_total{outcome="stored"} 1`} {
		if !strings.Contains(m, want) {
			t.Errorf("inner metrics lack %s", want)
		}
	}
	// The same package queued again is refused by the outbox; re-sent it would be Already.
	var errb bytes.Buffer
	if code := imain(context.Background(), []string{"outbox", "add", "--config", innerConf, pkgPath}, io.Discard, &errb, nil); code == 0 || !strings.Contains(errb.String(), "already queued") {
		t.Fatalf("second outbox add: %d %s", code, errb.String())
	}

	// The outer records whom it is for and until when, from the signed
	// manifest; an admin revokes it and the file is gone.
	out := mainOf(t, omain, "store", "list", "--config", outerConf, "--json")
	for _, want := range []string{`"export_id":"7d0c5a8e-0f39-4a52-9c1b-2d6e4f1a3b57"`, `"recipient":"officer.kim"`, `"expires_at":"`, `"state":"available"`} {
		if !strings.Contains(out, want) {
			t.Errorf("store list lacks %s: %s", want, out)
		}
	}
	kept := filepath.Join(ocfg.Transfer.StoreDir, want+".sgpkg")
	if _, err := os.Stat(kept); err != nil {
		t.Fatalf("the stored package's file: %v", err)
	}
	if out := mainOf(t, omain, "store", "revoke", "--config", outerConf, want, "--reason", "수사 종결 (공문 2026-91)", "--json"); !strings.Contains(out, `"state":"destroyed"`) {
		t.Fatalf("store revoke: %s", out)
	}
	if _, err := os.Stat(kept); !os.IsNotExist(err) {
		t.Errorf("the revoked package's file: %v", err)
	}
}
