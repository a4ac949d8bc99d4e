package innerd_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"github.com/jackc/pgx/v5/pgxpool"

	"sealgate/appliance/daemon/daemontest"
	"sealgate/appliance/innerd"
	"sealgate/inner/ledger"
	"sealgate/shared/account"
	"sealgate/shared/audit"
	"sealgate/shared/backup"
	"sealgate/shared/keys"
	"sealgate/shared/pgcluster"
)

// innerState is what a restore must bring back.
type innerState struct {
	users  []*account.User
	ledger []*ledger.Entry
	audit  []audit.Entry
}

// readState reads the users (their personal data opened with the key
// directory's pii.key), the ledger and the audit log of the private
// database in dataDir, with the cluster running.
func readState(t *testing.T, dataDir string, k *keys.Inner) innerState {
	t.Helper()
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, pgcluster.RoleURL(filepath.Join(dataDir, "pg"), "sealgate", pgcluster.AppRole))
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	cfg := innerd.Accounts
	cfg.PIIKey, cfg.Audit = k.PII, audit.New(pool, k.Audit)
	svc, err := account.NewService(ctx, pool, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var s innerState
	if s.users, err = svc.Users(ctx, ""); err != nil {
		t.Fatal(err)
	}
	l, _ := ledger.New(pool, cfg.Audit, 12)
	if s.ledger, err = l.List(ctx, 100); err != nil {
		t.Fatal(err)
	}
	if s.audit, err = cfg.Audit.Query(ctx, audit.Filter{Limit: 1000}); err != nil {
		t.Fatal(err)
	}
	if n, err := cfg.Audit.Verify(ctx); err != nil || n != int64(len(s.audit)) {
		t.Fatalf("audit verify: %d entries, %v", n, err)
	}
	return s
}

func startCluster(t *testing.T, dataDir string) *pgcluster.Cluster {
	t.Helper()
	c, err := pgcluster.Start(context.Background(), pgcluster.Options{Dir: filepath.Join(dataDir, "pg"), Database: "sealgate", Ephemeral: true})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func fails(t *testing.T, want string, args ...string) {
	t.Helper()
	var out, errb bytes.Buffer
	if code := innerd.Main(context.Background(), args, &out, &errb, nil); code == 0 || !strings.Contains(errb.String(), want) {
		t.Errorf("%s: exit %d, %q; want an error saying %q", args[0], code, errb.String(), want)
	}
}

// TestBackupRestore: an appliance with users, ledger rows and audit
// entries, on its private database, is backed up while its database runs;
// archives that are cut, altered, of the outer or of another appliance are
// refused without a change; restored onto a wiped machine (no database, no
// keys), it has the same users, ledger and audit chain, plus the restore's
// entry.
func TestBackupRestore(t *testing.T) {
	ctx := context.Background()
	dirA := daemontest.DataDir(t)
	confA := filepath.Join(dirA, "inner.yaml")
	os.WriteFile(confA, []byte("data_dir: data\nappliance_number: 12\n"), 0o600)
	dataA := filepath.Join(dirA, "data")
	run(t, "keys", "init", "--dir", filepath.Join(dataA, "keys"))

	id, _ := age.GenerateX25519Identity()
	idFile, recFile := filepath.Join(dirA, "backup.key"), filepath.Join(dirA, "backup.pub")
	os.WriteFile(idFile, []byte(id.String()+"\n"), 0o600)
	os.WriteFile(recFile, []byte("# the operator's key\n"+id.Recipient().String()+"\n"), 0o644)

	cluster := startCluster(t, dataA)                                  // runs through the backup: the daemon's database up
	run(t, "admin", "create", "--config", confA, "--username", "root") // migrates it
	k, err := keys.LoadInner(filepath.Join(dataA, "keys"))
	if err != nil {
		t.Fatal(err)
	}
	svc := daemontest.Accounts(t, pgcluster.RoleURL(filepath.Join(dataA, "pg"), "sealgate", pgcluster.AppRole), innerd.Accounts, &k.Secrets)
	actor := account.Actor{Name: "admin", Remote: "test"}
	for _, u := range []account.NewUser{{Username: "kim", Role: "operator", FullName: "김민지", Phone: "010-1234-5678"},
		{Username: "lee", Role: "approver", Affiliation: "관제센터"}} {
		if _, _, err := svc.CreateUser(ctx, actor, u); err != nil {
			t.Fatal(err)
		}
	}
	pool, _ := pgxpool.New(ctx, pgcluster.RoleURL(filepath.Join(dataA, "pg"), "sealgate", pgcluster.AppRole))
	l, _ := ledger.New(pool, audit.New(pool, k.Audit), 12)
	for i, reason := range []string{"교통사고 2026-1", "절도 2026-2"} {
		e, err := l.Open(ctx, ledger.Request{Requester: "경위 박서연", Reason: reason, IssuedBy: "kim", SourceName: "cam1.mp4", SourceSHA256: sha256.Sum256([]byte(reason))})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			if _, err := l.Issue(ctx, e.Serial, sha256.Sum256([]byte("out")), 250, 44.5); err != nil {
				t.Fatal(err)
			}
		}
	}
	pool.Close()

	// Backed up while the database runs; the archive holds its own entry.
	archive := filepath.Join(dirA, "inner.sgbak")
	start := time.Now()
	out := run(t, "backup", "--config", confA, "--out", archive, "--recipient", recFile)
	t.Logf("backup: %v: %s", time.Since(start), out)
	fails(t, "exists", "backup", "--config", confA, "--out", archive, "--recipient", recFile)
	before := readState(t, dataA, k)
	if last := before.audit[0]; last.Action != "backup.create" || last.Target != archive {
		t.Fatalf("newest audit entry before the restore: %+v", last)
	}
	if len(before.users) != 3 || len(before.ledger) != 2 {
		t.Fatalf("state before: %d users, %d ledger rows", len(before.users), len(before.ledger))
	}
	fails(t, "the private database is running", "restore", "--config", confA, "--in", archive, "--identity", idFile)
	if err := cluster.Close(); err != nil {
		t.Fatal(err)
	}

	// Refused, nothing changed: the appliance's own keys and data stay.
	good, _ := os.ReadFile(archive)
	bad := func(name string, b []byte) string {
		p := filepath.Join(dirA, name)
		os.WriteFile(p, b, 0o600)
		return p
	}
	flipped := bytes.Clone(good)
	flipped[len(good)/2] ^= 0x40
	other, _ := age.GenerateX25519Identity()
	otherFile := bad("other.key", []byte(other.String()+"\n"))
	keysBefore := keyFiles(t, filepath.Join(dataA, "keys"))
	os.Mkdir(filepath.Join(dataA, ".restore-killed"), 0o700) // a killed restore's staging, removed by the next
	for _, c := range []struct{ archive, identity, want string }{
		{bad("flipped.sgbak", flipped), idFile, "damaged"},
		{bad("cut.sgbak", good[:len(good)-100]), idFile, "damaged"},
		{archive, otherFile, "does not open this archive"},
		{bad("outer.sgbak", handmade(t, backup.Manifest{Kind: "outer"}, id)), idFile, "a backup of sealgate-outer"},
		{bad("thirteen.sgbak", handmade(t, backup.Manifest{Kind: "inner", Appliance: 13}, id)), idFile, "appliance_number 13"},
		{bad("newer.sgbak", handmade(t, backup.Manifest{Kind: "inner", Appliance: 12, Schema: map[string]int{"inner": 999}}, id)), idFile, "schema is at version 999"},
	} {
		fails(t, c.want, "restore", "--config", confA, "--in", c.archive, "--identity", c.identity)
	}
	if got := keyFiles(t, filepath.Join(dataA, "keys")); !reflect.DeepEqual(got, keysBefore) {
		t.Error("a refused restore changed the key directory")
	}
	if left, _ := filepath.Glob(filepath.Join(dataA, ".restore-*")); len(left) > 0 {
		t.Errorf("staging left after refused restores: %v", left)
	}

	// A wiped machine: the same configuration, no database, no keys.
	dirB := daemontest.DataDir(t)
	confB := filepath.Join(dirB, "inner.yaml")
	os.WriteFile(confB, []byte("data_dir: data\nappliance_number: 12\n"), 0o600)
	start = time.Now()
	out = run(t, "restore", "--config", confB, "--in", archive, "--identity", idFile)
	t.Logf("restore: %v: %s", time.Since(start), out)
	dataB := filepath.Join(dirB, "data")
	if got := keyFiles(t, filepath.Join(dataB, "keys")); !reflect.DeepEqual(got, keysBefore) {
		t.Errorf("restored keys differ:\n%v\n%v", got, keysBefore)
	}
	if fi, err := os.Stat(filepath.Join(dataB, "keys")); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("restored key_dir: %v %v", fi.Mode(), err)
	}
	kB, err := keys.LoadInner(filepath.Join(dataB, "keys"))
	if err != nil {
		t.Fatal(err)
	}
	run(t, "audit", "verify", "--config", confB)
	clusterB := startCluster(t, dataB)
	after := readState(t, dataB, kB)
	clusterB.Close()
	if !reflect.DeepEqual(after.users, before.users) {
		t.Errorf("users after the restore:\n%+v\nbefore:\n%+v", after.users, before.users)
	}
	if !reflect.DeepEqual(after.ledger, before.ledger) {
		t.Errorf("ledger after the restore:\n%+v\nbefore:\n%+v", after.ledger, before.ledger)
	}
	if len(after.audit) != len(before.audit)+1 || !reflect.DeepEqual(after.audit[1:], before.audit) || after.audit[0].Action != "backup.restore" {
		t.Errorf("audit chain after the restore: %d entries (newest %+v), %d before", len(after.audit), after.audit[0], len(before.audit))
	}

	// Restored again in place after the daemon's anchor moved on: the
	// replaced chain's anchor is set aside and named, so the restored,
	// shorter chain verifies and anchoring starts afresh.
	anchorFile := filepath.Join(dataB, "audit-anchor.json")
	run(t, "audit", "anchor", "--config", confB, "--out", anchorFile)
	run(t, "restore", "--config", confB, "--in", archive, "--identity", idFile)
	if out := run(t, "audit", "verify", "--config", confB); !strings.Contains(out, "intact") {
		t.Errorf("audit verify after restoring over a later anchor: %s", out)
	}
	if aside, _ := filepath.Glob(anchorFile + ".replaced-*"); len(aside) != 1 {
		t.Errorf("the replaced chain's anchor: %v", aside)
	}
}

// keyFiles maps each file of a key directory to its mode and SHA-256.
func keyFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, e := range es {
		b, _ := os.ReadFile(filepath.Join(dir, e.Name()))
		fi, _ := e.Info()
		m[e.Name()] = fmt.Sprintf("%v %x", fi.Mode(), sha256.Sum256(b))
	}
	return m
}

// handmade is a well-formed archive with manifest m, one key file and an
// empty dump: what another daemon, appliance or release would write.
func handmade(t *testing.T, m backup.Manifest, id *age.X25519Identity) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := backup.NewWriter(&b, m, id.Recipient())
	if err != nil {
		t.Fatal(err)
	}
	w.AddFile("audit.key", 0o600, 3, strings.NewReader("key"))
	if _, err := w.AddDatabase(strings.NewReader("")); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}
