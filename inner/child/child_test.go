package child_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"sealgate/inner/child"
)

// The test binary plays sealgate-inner when it is started as a child.
func TestMain(m *testing.M) {
	if os.Getenv(child.Env) == "" {
		os.Exit(m.Run())
	}
	child.MustEnter()
	switch os.Args[1] {
	case child.ExecCommand:
		fmt.Fprintln(os.Stderr, "sealgate-inner:", child.ExecMain(os.Args[2:]))
		os.Exit(2)
	case "whoami", "write", "spin", "greedy":
		confined(os.Args[1], os.Args[2:])
	case "echo":
		fmt.Print(strings.Join(os.Args[2:], " "))
	case "flood":
		for range 1 << 12 {
			fmt.Print(strings.Repeat("x", 1<<10))
		}
	case "fail":
		fmt.Fprintln(os.Stderr, `{"frame":1,"frames":2}`)
		fmt.Fprintln(os.Stderr, "sealgate-inner: mask: clip.mp4: no video stream")
		fmt.Fprintln(os.Stderr, `{"frame":2,"frames":2}`)
		os.Exit(2)
	case "sleep":
		time.Sleep(time.Minute)
	}
	os.Exit(0)
}

func TestRunReturnsStdout(t *testing.T) {
	out, err := child.Run(context.Background(), child.Options{MaxStdout: 100}, "echo", "a", "b")
	if err != nil || string(out) != "a b" {
		t.Fatalf("Run: %q, %v", out, err)
	}
}

func TestRunStopsAFloodingChild(t *testing.T) {
	_, err := child.Run(context.Background(), child.Options{MaxStdout: 1 << 10}, "flood")
	if !errors.Is(err, child.ErrOutputTooLong) {
		t.Fatalf("Run: %v, want ErrOutputTooLong", err)
	}
}

// A failed child's error quotes its last word that is not a progress line,
// without the program name, and keeps its exit status.
func TestRunQuotesTheChildsLastWord(t *testing.T) {
	var progress int
	_, err := child.Run(context.Background(), child.Options{Line: func(b []byte) bool {
		if strings.HasPrefix(string(b), `{"frame"`) {
			progress++
			return true
		}
		return false
	}}, "fail")
	var ce *child.Error
	if !errors.As(err, &ce) || ce.Said != "mask: clip.mp4: no video stream" || progress != 2 {
		t.Fatalf("Run: %v (said %q), %d progress lines", err, ce.Said, progress)
	}
	if !strings.HasPrefix(err.Error(), "mask: clip.mp4: no video stream (exit status 2") {
		t.Fatalf("error reads %q", err)
	}
}

func TestRunEndsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := child.Run(ctx, child.Options{}, "sleep")
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 10*time.Second {
		t.Fatalf("Run: %v after %v, want the deadline", err, time.Since(start))
	}
}
