package upload_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"testing/iotest"
	"time"

	"sealgate/inner/upload"
)

func TestResumeAtTheServersOffset(t *testing.T) {
	s, err := upload.New(t.TempDir(), 100)
	if err != nil {
		t.Fatal(err)
	}
	id, err := s.Create("kim")
	if err != nil {
		t.Fatal(err)
	}
	if n, err := s.Append("kim", id, 0, bytes.NewReader([]byte("0123456789"))); err != nil || n != 10 {
		t.Fatalf("first chunk: %d, %v", n, err)
	}
	// A connection that breaks mid-chunk keeps what arrived.
	n, err := s.Append("kim", id, 10, io.MultiReader(bytes.NewReader([]byte("abcde")), iotest.ErrReader(errors.New("reset by peer"))))
	if err == nil || n != 15 {
		t.Fatalf("broken chunk: %d, %v", n, err)
	}
	// The client resends from an offset the server does not hold: refused with the server's.
	if n, err := s.Append("kim", id, 10, bytes.NewReader([]byte("abcdefghij"))); !errors.Is(err, upload.ErrOffset) || n != 15 {
		t.Fatalf("stale offset: %d, %v", n, err)
	}
	if off, _ := s.Offset("kim", id); off != 15 {
		t.Fatalf("offset %d", off)
	}
	if n, err := s.Append("kim", id, 15, bytes.NewReader([]byte("fghij"))); err != nil || n != 20 {
		t.Fatalf("resumed: %d, %v", n, err)
	}
	p, _ := s.Path("kim", id)
	if b, _ := os.ReadFile(p); string(b) != "0123456789abcdefghij" {
		t.Fatalf("assembled %q", b)
	}
	// Another user can neither read nor append to it; a forged id is unknown.
	if _, err := s.Append("lee", id, 20, bytes.NewReader([]byte("x"))); !errors.Is(err, upload.ErrUnknown) {
		t.Errorf("another user appended: %v", err)
	}
	for _, bad := range []string{"../kim/" + id, id + "/..", "", "zz"} {
		if _, err := s.Path("kim", bad); !errors.Is(err, upload.ErrUnknown) {
			t.Errorf("id %q: %v", bad, err)
		}
	}
	if _, err := s.Path("..", id); !errors.Is(err, upload.ErrUnknown) {
		t.Errorf("user ..: %v", err)
	}
}

func TestUploadBeyondTheLimitIsRemoved(t *testing.T) {
	s, _ := upload.New(t.TempDir(), 10)
	id, _ := s.Create("kim")
	if _, err := s.Append("kim", id, 0, bytes.NewReader(make([]byte, 11))); !errors.Is(err, upload.ErrTooLarge) {
		t.Fatalf("11 bytes in a 10-byte limit: %v", err)
	}
	if _, err := s.Offset("kim", id); !errors.Is(err, upload.ErrUnknown) {
		t.Errorf("the oversized upload is kept: %v", err)
	}
}

func TestAbandonedUploadsExpire(t *testing.T) {
	dir := t.TempDir()
	s, _ := upload.New(dir, 10)
	old, _ := s.Create("kim")
	fresh, _ := s.Create("kim")
	past := time.Now().Add(-25 * time.Hour)
	os.Chtimes(filepath.Join(dir, "kim", old+".part"), past, past)
	if n, err := s.Expire(24 * time.Hour); err != nil || n != 1 {
		t.Fatalf("expired %d, %v", n, err)
	}
	if _, err := s.Offset("kim", old); err == nil {
		t.Error("the abandoned upload survived")
	}
	if _, err := s.Offset("kim", fresh); err != nil {
		t.Errorf("the fresh upload went: %v", err)
	}
}
