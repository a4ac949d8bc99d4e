package appliance_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"sealgate/appliance/daemon/daemontest"
	"sealgate/appliance/innerd"
	"sealgate/shared/config"
	"sealgate/shared/keys"
	"sealgate/shared/pgdb/pgtest"
	"sealgate/transfer/transfertest"
)

// proc is a daemon binary running as a process of its own.
type proc struct {
	t    *testing.T
	argv []string
	env  []string
	log  io.Writer
	cmd  *exec.Cmd
}

func (p *proc) start() {
	p.cmd = exec.Command(p.argv[0], p.argv[1:]...)
	p.cmd.Env = append(os.Environ(), p.env...)
	p.cmd.Stdout, p.cmd.Stderr = p.log, p.log
	if err := p.cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
}

// kill ends the process with SIGKILL: no shutdown, nothing flushed.
func (p *proc) kill() {
	p.cmd.Process.Kill()
	p.cmd.Wait()
}

func buildDaemon(t *testing.T, dir, name string) string {
	t.Helper()
	bin := filepath.Join(dir, name)
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/"+name).CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", name, err, out)
	}
	return bin
}

// TestSoakSIGKILL runs both daemons as real processes, paired through their
// configs, queues packages with `outbox add`, and kills either daemon with
// SIGKILL at random while they flow: every package must arrive exactly
// once, byte for byte. `make soak` runs the acceptance sizes
// (SEALGATE_SOAK_SMALL=1000, SEALGATE_SOAK_LARGE=3, SEALGATE_SOAK_LARGE_MB=2048).
func TestSoakSIGKILL(t *testing.T) {
	small, large, largeMB := envInt("SEALGATE_SOAK_SMALL", 40), envInt("SEALGATE_SOAK_LARGE", 1), envInt("SEALGATE_SOAK_LARGE_MB", 48)
	chaos := time.Duration(envInt("SEALGATE_SOAK_CHAOS_S", 12)) * time.Second
	ctx := context.Background()
	dir := daemontest.DataDir(t)
	innerBin, outerBin := buildDaemon(t, dir, "sealgate-inner"), buildDaemon(t, dir, "sealgate-outer")
	for _, init := range []func(string) error{
		func(d string) error { return keys.InitInner(filepath.Join(d, "inner-keys")) },
		func(d string) error { return keys.InitOuter(filepath.Join(d, "outer-keys")) },
	} {
		if err := init(dir); err != nil {
			t.Fatal(err)
		}
	}
	ik, err := keys.LoadInner(filepath.Join(dir, "inner-keys"))
	if err != nil {
		t.Fatal(err)
	}
	ok, err := keys.LoadOuter(filepath.Join(dir, "outer-keys"))
	if err != nil {
		t.Fatal(err)
	}
	pair := &transfertest.Pair{Inner: ik, Outer: ok} // makes packages signed and sealed for these keys
	innerConf, outerConf := pairedConfigs(t, dir, ik, ok, "  streams: 8\n")
	innerDB, outerDB := pgtest.NewDatabase(t, nil), pgtest.NewDatabase(t, nil)
	innerEnv := []string{config.InnerEnvPrefix + "DATABASE_URL=" + innerDB}
	logf, err := os.Create(filepath.Join(dir, "daemons.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	inner := &proc{t: t, argv: []string{innerBin, "serve", "--config", innerConf}, env: innerEnv, log: logf}
	outer := &proc{t: t, argv: []string{outerBin, "serve", "--config", outerConf}, env: []string{config.OuterEnvPrefix + "DATABASE_URL=" + outerDB}, log: logf}
	inner.start()
	outer.start()
	defer func() { inner.kill(); outer.kill() }()
	failed := func(format string, args ...any) {
		t.Helper()
		logf.Sync()
		b, _ := os.ReadFile(logf.Name())
		t.Fatalf(format+"\nlast daemon log lines:\n%s", append(args, tail(b, 30))...)
	}

	want := map[string]bool{}
	var wantMu sync.Mutex
	queue := func(size int) error {
		path, sum := pair.Package(t, size)
		defer os.Remove(path)           // the outbox keeps its own copy
		for attempt := 0; ; attempt++ { // the inner may still be migrating its database
			var errb bytes.Buffer
			if innerd.Main(ctx, []string{"outbox", "add", "--config", innerConf, path}, io.Discard, &errb, innerEnv) == 0 {
				break
			}
			if attempt == 50 {
				return fmt.Errorf("outbox add: %s", errb.String())
			}
			time.Sleep(200 * time.Millisecond)
		}
		wantMu.Lock()
		want[sum] = true
		wantMu.Unlock()
		return nil
	}
	for range large {
		if err := queue(largeMB << 20); err != nil {
			failed("%v", err)
		}
	}
	for range small / 2 {
		if err := queue(1000 + mrand.IntN(200_000)); err != nil {
			failed("%v", err)
		}
	}
	// The rest is queued while the kills go on.
	queued := make(chan error, 1)
	go func() {
		for range small - small/2 {
			if err := queue(1000 + mrand.IntN(200_000)); err != nil {
				queued <- err
				return
			}
		}
		queued <- nil
	}()
	kills := 0
	for end, done := time.Now().Add(chaos), false; !done || time.Now().Before(end) || kills < 4; kills++ {
		time.Sleep(time.Duration(300+mrand.IntN(1200)) * time.Millisecond)
		victim := []*proc{inner, outer}[mrand.IntN(2)]
		victim.kill()
		victim.start()
		select {
		case err := <-queued:
			if err != nil {
				failed("%v", err)
			}
			done = true
		default:
		}
	}

	db, err := pgxpool.New(ctx, innerDB)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// A package claimed by a killed sender is due again 30 s after its
	// claim was last renewed.
	deadline := time.Now().Add(5 * time.Minute)
	for {
		var waiting int
		if err := db.QueryRow(ctx, `SELECT count(*) FROM outbox WHERE state <> 'delivered'`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting == 0 {
			break
		}
		if time.Now().After(deadline) {
			failed("%d packages not delivered 5 minutes after the kills stopped", waiting)
		}
		time.Sleep(500 * time.Millisecond)
	}
	var delivered int
	if err := db.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'transfer.deliver'`).Scan(&delivered); err != nil {
		t.Fatal(err)
	}
	store := filepath.Join(dir, "outer", "packages")
	for sum := range want {
		f, err := os.Open(filepath.Join(store, sum+".sgpkg"))
		if err != nil {
			failed("lost: %s", sum)
		}
		h := sha256.New()
		io.Copy(h, f)
		f.Close()
		if hex.EncodeToString(h.Sum(nil)) != sum {
			failed("stored package %s differs", sum)
		}
	}
	odb, err := pgxpool.New(ctx, outerDB)
	if err != nil {
		t.Fatal(err)
	}
	defer odb.Close()
	var recorded int
	// The outer records a package before its receipt; give a record made
	// by a restarted outer's reconciliation a moment.
	for range 50 {
		if err := odb.QueryRow(ctx, `SELECT count(*) FROM packages`).Scan(&recorded); err != nil {
			t.Fatal(err)
		}
		if recorded >= len(want) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	stored, _ := filepath.Glob(filepath.Join(store, "*.sgpkg"))
	partial, _ := filepath.Glob(filepath.Join(store, "incoming", "*"))
	if len(stored) != len(want) || recorded != len(want) || delivered != len(want) || len(partial) != 0 {
		failed("stored %d, recorded %d by the outer, delivered %d times by the inner, %d partial files; want %d, %d, %d, 0",
			len(stored), recorded, delivered, len(partial), len(want), len(want), len(want))
	}
	t.Logf("%d packages (%d of %d MiB) delivered exactly once across %d SIGKILLs of the daemons", len(want), large, largeMB, kills)
}

func tail(b []byte, lines int) []byte {
	for i, n := len(b)-1, 0; i >= 0; i-- {
		if b[i] == '\n' {
			if n++; n > lines {
				return b[i+1:]
			}
		}
	}
	return b
}
