// Package child runs one job of the inner daemon in a child sealgate-inner
// process. FFmpeg and OpenCV parse hostile files there (an uploaded clip, a
// suspect copy), so a crafted file ends the job, never the daemon
// (docs/architecture.md, "Children").
//
// # Bounds
//
// The daemon reads back only what it asked for: [Run] caps the child's
// stdout and keeps only the tail of its stderr, and the child dies with the
// caller's context. A child's error names the last line it wrote to stderr,
// which is where sealgate-inner says what went wrong.
package child

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
)

// Env marks a process the daemon started as a child. Test binaries
// dispatch on it to act as sealgate-inner when the code under test starts
// one.
const Env = "SEALGATE_INNER_CHILD"

// Command returns `sealgate-inner args…` (this executable) as a child of
// ctx: it is killed when ctx ends.
func Command(ctx context.Context, args ...string) (*exec.Cmd, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("child: find this executable: %w", err)
	}
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Env = append(os.Environ(), Env+"=1")
	return cmd, nil
}

// Options bound what Run reads back from a child.
type Options struct {
	// MaxStdout is the most stdout Run keeps; a child that writes more is
	// killed and Run fails. Zero discards stdout.
	MaxStdout int
	// Line, if set, sees each line the child writes to stderr (progress
	// reports) and says whether it consumed it; lines it does not consume
	// are what an error quotes.
	Line func(line []byte) (consumed bool)
}

// ErrOutputTooLong reports a child that wrote more than Options.MaxStdout.
var ErrOutputTooLong = errors.New("child: output too long")

// maxLine is the longest stderr line handed to Options.Line or quoted.
const maxLine = 64 << 10

// Error is a child that failed: its exit (or the reason it was stopped) and
// the last line it said on stderr.
type Error struct {
	Args []string
	Err  error
	Said string // the child's last unconsumed stderr line, without the program name
}

func (e *Error) Error() string {
	if e.Said == "" {
		return fmt.Sprintf("sealgate-inner %s: %v", e.Args[0], e.Err)
	}
	return fmt.Sprintf("%s (%v)", e.Said, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Run runs `sealgate-inner args…` to its end and returns its stdout.
func Run(ctx context.Context, opts Options, args ...string) ([]byte, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd, err := Command(ctx, args...)
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("child: %w", err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, fmt.Errorf("child: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("child: start sealgate-inner %s: %w", args[0], err)
	}
	var (
		wg   sync.WaitGroup
		out  []byte
		oerr error
		said string
	)
	wg.Go(func() {
		out, oerr = readCapped(stdout, opts.MaxStdout)
		if oerr != nil {
			cancel() // a child that floods us is stopped, not waited for
		}
	})
	wg.Go(func() { said = scanStderr(stderr, opts.Line) })
	wg.Wait()
	err = cmd.Wait()
	switch {
	case oerr != nil:
		return nil, &Error{Args: args, Err: oerr, Said: said}
	case err != nil:
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%w)", context.Cause(ctx), err)
		}
		return nil, &Error{Args: args, Err: err, Said: said}
	}
	return out, nil
}

// readCapped reads r to its end, keeping at most max bytes.
func readCapped(r io.Reader, max int) ([]byte, error) {
	if max <= 0 {
		_, err := io.Copy(io.Discard, r)
		return nil, err
	}
	b, err := io.ReadAll(io.LimitReader(r, int64(max)+1))
	if err != nil {
		return nil, err
	}
	if len(b) > max {
		io.Copy(io.Discard, r) //nolint:errcheck // drained so the child is not blocked while it is killed
		return nil, fmt.Errorf("%w: more than %d bytes", ErrOutputTooLong, max)
	}
	return b, nil
}

// scanStderr hands each stderr line to line and returns the last one it
// did not consume, cut to 400 bytes for an error message.
func scanStderr(r io.Reader, line func([]byte) bool) string {
	var last []byte
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), maxLine)
	for sc.Scan() {
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 || (line != nil && line(b)) {
			continue
		}
		last = append(last[:0], b...)
	}
	if sc.Err() != nil {
		io.Copy(io.Discard, r) //nolint:errcheck // an over-long line: keep draining so the child can finish
	}
	s := strings.TrimPrefix(string(last), "sealgate-inner: ")
	if len(s) > 400 {
		s = s[:400]
	}
	return strings.ToValidUTF8(s, "�")
}
