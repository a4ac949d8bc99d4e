package innerd_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sealgate/appliance/innerd"
	"sealgate/inner/ledger"
	"sealgate/inner/video/videotest"
	"sealgate/shared/pgdb/pgtest"
)

// TestLedgerCommands: mask and watermark take their serial from the ledger
// with --requester and --reason; a render that fails keeps its serial as
// failed and leaves no file; trace --config names the export; ledger list
// shows every row, newest first.
func TestLedgerCommands(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "inner.yaml")
	os.WriteFile(conf, []byte("data_dir: data\nappliance_number: 12\n"), 0o600)
	env := []string{"SEALGATE_INNER_DATABASE_URL=" + pgtest.NewDatabase(t, nil)}
	run(t, "keys", "init", "--dir", filepath.Join(dir, "data", "keys"))

	notVideo := filepath.Join(dir, "notes.mp4")
	os.WriteFile(notVideo, []byte("not a video\n"), 0o600)
	var out, errb bytes.Buffer
	code := innerd.Main(context.Background(), []string{"mask", "--in", notVideo, "--out", filepath.Join(dir, "bad.mp4"),
		"--config", conf, "--requester", "경위 박서연", "--reason", "교통사고 2026-88"}, &out, &errb, env)
	if code == 0 || !strings.Contains(errb.String(), "recorded as failed") {
		t.Fatalf("mask of a text file for the ledger: exit %d, %s", code, errb.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "bad.mp4")); err == nil {
		t.Fatal("a failed export left its output")
	}

	marked := filepath.Join(dir, "marked.mp4")
	var mark struct {
		Payload string
		Export  ledger.Entry
	}
	js := runEnv(t, env, "watermark", "--in", videotest.Asset(t, "movie-hello.mp4"), "--out", marked,
		"--config", conf, "--requester", "경위 박서연", "--reason", "교통사고 2026-89", "--json")
	if err := json.Unmarshal([]byte(js), &mark); err != nil {
		t.Fatal(err)
	}
	if mark.Export.Serial != 2 || mark.Export.Appliance != 12 || mark.Payload != "000c000000000002" || mark.Payload != mark.Export.Payload {
		t.Fatalf("second export: %s", js)
	}

	var traced struct {
		Found   bool
		Payload string
		Export  *ledger.Entry
	}
	js = runEnv(t, env, "trace", "--in", marked, "--config", conf, "--json")
	if err := json.Unmarshal([]byte(js), &traced); err != nil {
		t.Fatal(err)
	}
	if !traced.Found || traced.Export == nil || traced.Export.Reason != "교통사고 2026-89" || traced.Export.OutputSHA256 != mark.Export.OutputSHA256 {
		t.Fatalf("trace --config: %s", js)
	}

	var list struct{ Exports []ledger.Entry }
	listed := runEnv(t, env, "ledger", "list", "--config", conf, "--json")
	if err := json.Unmarshal([]byte(listed), &list); err != nil {
		t.Fatal(err)
	}
	// The contract (README, "Commands"): every row names its destruction, null and false until a receipt verified.
	if strings.Count(listed, `"destroyed_at":null`) != 2 || strings.Count(listed, `"destruction_verified":false`) != 2 {
		t.Fatalf("ledger list lacks destroyed_at or destruction_verified: %s", listed)
	}
	if len(list.Exports) != 2 || list.Exports[0].State != ledger.Issued || list.Exports[1].State != ledger.Failed ||
		!strings.Contains(list.Exports[1].Error, "not a video") {
		t.Fatalf("ledger list: %+v", list.Exports)
	}
}
