package innerd_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sealgate/inner/child"
	"sealgate/inner/video/videotest"
	"sealgate/inner/watermark"
	"sealgate/shared/keys"
)

// traceChild runs the console's trace child on path with the key on stdin.
func traceChild(t *testing.T, path string, secret []byte) (*watermark.TraceResult, error) {
	t.Helper()
	j, err := child.NewJob()
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	in, err := j.Input(path)
	if err != nil {
		t.Fatal(err)
	}
	out, err := j.Run(context.Background(), child.Options{MaxStdout: 64 << 10, Stdin: bytes.NewReader(secret)}, "trace-child", "--in", in)
	if err != nil {
		return nil, err
	}
	var res watermark.TraceResult
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	return &res, nil
}

// A container cut short in its index, or one whose box claims to be 4 GB,
// fails its confined child with an error that names the file as the daemon
// knows it; the daemon goes on, and its next trace, the key handed over on
// stdin rather than as a key directory, finds the mark. The old code had no
// trace child that takes its key on stdin.
func TestTraceChildOfCraftedFiles(t *testing.T) {
	dir := t.TempDir()
	keyDir := filepath.Join(dir, "keys")
	run(t, "keys", "init", "--dir", keyDir)
	secret, err := keys.LoadWatermark(keyDir)
	if err != nil {
		t.Fatal(err)
	}
	original := videotest.Asset(t, "movie-hello.mp4")
	good, err := os.ReadFile(original)
	if err != nil {
		t.Fatal(err)
	}
	moov := binary.BigEndian.Uint32(good[32:]) // ftyp is 32 bytes, then the index
	huge := bytes.Clone(good[:32+moov])
	binary.BigEndian.PutUint32(huge[32:], 0xfffffff0)
	for name, b := range map[string][]byte{
		"cut-in-index.mp4": good[:32+moov/2],
		"huge-box.mp4":     huge,
		"empty.mp4":        {},
	} {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(dir, name)
			if err := os.WriteFile(p, b, 0o600); err != nil {
				t.Fatal(err)
			}
			res, err := traceChild(t, p, secret)
			var ce *child.Error
			if !errors.As(err, &ce) {
				t.Fatalf("trace of %s: %+v, %v; want the child's error", name, res, err)
			}
			t.Logf("%s: %v", name, err)
			if !strings.Contains(ce.Said, p) || strings.Contains(err.Error(), "/proc/self/fd") || strings.Contains(ce.Said, "goroutine") {
				t.Fatalf("the error does not name %s plainly: %q", p, err)
			}
		})
	}
	marked := filepath.Join(dir, "marked.mp4")
	run(t, "watermark", "--in", original, "--out", marked, "--payload", "00070000000004d2", "--key-dir", keyDir)
	res, err := traceChild(t, marked, secret)
	if err != nil || !res.Found || res.Payload != "00070000000004d2" {
		t.Fatalf("trace of the marked copy after the crafted ones: %+v, %v", res, err)
	}
}
