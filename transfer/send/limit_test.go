package send

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// A write held back by the bandwidth cap ends when its context does, so a
// sender stopping mid-package is not kept waiting for its share.
func TestCappedWriteEndsWithItsContext(t *testing.T) {
	s := &Sender{limiter: rate.NewLimiter(1, 1<<10)} // 1 byte/s after the first KiB
	ctx, cancel := context.WithCancel(context.Background())
	w := s.capped(ctx, io.Discard)
	if n, err := w.Write(make([]byte, 1<<10)); n != 1<<10 || err != nil {
		t.Fatalf("the first burst: %d, %v", n, err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := w.Write(make([]byte, 1<<10)) // would wait 17 minutes
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("write after cancel: %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the capped write outlived its context")
	}
}
