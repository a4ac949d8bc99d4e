package daemon

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sealgate/shared/audit"
	"sealgate/shared/config"
	"sealgate/shared/pgdb"
	"sealgate/shared/pgdb/pgtest"
)

// A round anchors the chain's head into the anchor file, the SIEM file
// and syslog (a real UDP listener); after the newest entries are deleted
// it anchors nothing: the file keeps the last good anchor and the SIEM
// file and syslog get the broken chain, naming the first missing entry.
func TestAnchoringExportsTheHeadAndReportsATruncatedChain(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.NewPool(t, pgdb.MustMigrations(audit.Schema))
	log := audit.New(pool, bytes.Repeat([]byte{3}, 32))
	for range 3 {
		if err := log.Append(ctx, audit.Entry{Actor: "chief", Action: "user.create"}); err != nil {
			t.Fatal(err)
		}
	}
	udp, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	dir := t.TempDir()
	a := &anchoring{log: log, daemon: "inner", slog: slog.New(slog.DiscardHandler), cfg: config.Audit{AnchorEvery: time.Hour,
		AnchorFile: filepath.Join(dir, "audit-anchor.json"), SIEMFile: filepath.Join(dir, "siem.jsonl"), Syslog: "udp://" + udp.LocalAddr().String()}}
	syslogged := func() string {
		t.Helper()
		buf := make([]byte, 4096)
		udp.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, _, err := udp.ReadFrom(buf)
		if err != nil {
			t.Fatalf("syslog: %v", err)
		}
		return string(buf[:n])
	}

	if err := a.round(ctx); err != nil {
		t.Fatal(err)
	}
	got, ok, err := audit.ReadAnchorFile(a.cfg.AnchorFile)
	if err != nil || !ok || got.Seq != 3 {
		t.Fatalf("the anchor file: %+v %v %v", got, ok, err)
	}
	if msg := syslogged(); !strings.Contains(msg, "sealgate-inner") || !strings.Contains(msg, `"event":"sealgate.audit.anchor"`) || !strings.Contains(msg, got.MAC) {
		t.Fatalf("syslog: %q", msg)
	}
	log.Append(ctx, audit.Entry{Actor: "chief", Action: "user.create"})
	if err := a.round(ctx); err != nil {
		t.Fatal(err)
	}
	syslogged()
	if got, _, _ = audit.ReadAnchorFile(a.cfg.AnchorFile); got.Seq != 4 {
		t.Fatalf("the second anchor is of entry %d, want 4", got.Seq)
	}

	// The owner (here the test's superuser) goes around the trigger and
	// deletes the newest two entries.
	if _, err := pool.Exec(ctx, `ALTER TABLE audit_log DISABLE TRIGGER USER; DELETE FROM audit_log WHERE seq > 2;
		ALTER TABLE audit_log ENABLE TRIGGER USER`); err != nil {
		t.Fatal(err)
	}
	if err := a.round(ctx); err == nil {
		t.Fatal("a truncated chain was anchored")
	}
	if msg := syslogged(); !strings.Contains(msg, `"event":"sealgate.audit.broken"`) || !strings.Contains(msg, `"first_bad_entry":3`) {
		t.Fatalf("syslog after the deletion: %q", msg)
	}
	if kept, _, _ := audit.ReadAnchorFile(a.cfg.AnchorFile); kept != got {
		t.Fatalf("the anchor file changed to %+v after the deletion", kept)
	}
	f, err := os.Open(a.cfg.SIEMFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var events []event
	for sc := bufio.NewScanner(f); sc.Scan(); {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("SIEM line %q: %v", sc.Text(), err)
		}
		events = append(events, e)
	}
	if len(events) != 3 || events[0].Anchor.Seq != 3 || events[1].Anchor.Seq != 4 || events[2].Event != "sealgate.audit.broken" ||
		events[2].Seq != 3 || !strings.Contains(events[2].Reason, "truncated") || events[2].Daemon != "inner" {
		t.Fatalf("SIEM lines: %+v", events)
	}
	if st, _ := os.Stat(a.cfg.SIEMFile); st.Mode().Perm() != 0o640 {
		t.Errorf("SIEM file mode %v", st.Mode().Perm())
	}
}
