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
//
// # Confinement
//
// A decoder exploited by a crafted file gets nothing worth having. Under a
// root daemon a child runs as an unprivileged system user (Config.User),
// with no supplementary groups, in a network namespace of its own (no
// interface but a loopback that is down), in its own process group, and
// dies with the daemon. Its first act ([Enter]) caps its memory and
// processor time. It inherits only a few environment variables, never the
// daemon's configuration. It reads only the inputs a [Job] opened for it
// and writes only in the job's work directory, both handed over as
// descriptors; the key directory (0700 root) is out of its reach, and a
// secret it needs comes over its stdin.
package child

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
)

// Env marks a process the daemon started as a child, and carries the
// limits the child applies to itself ([Enter]). Test binaries dispatch on
// it to act as sealgate-inner when the code under test starts one.
const Env = "SEALGATE_INNER_CHILD"

// Options bound what Run reads back from a child.
type Options struct {
	// MaxStdout is the most stdout Run keeps; a child that writes more is
	// killed and Run fails. Zero discards stdout.
	MaxStdout int
	// Line, if set, sees each line the child writes to stderr (progress
	// reports) and says whether it consumed it; lines it does not consume
	// are what an error quotes.
	Line func(line []byte) (consumed bool)
	// Stdin, if set, is the child's standard input: how a secret such as
	// the watermark key reaches it, never on its command line.
	Stdin io.Reader
}

// ErrOutputTooLong reports a child that wrote more than Options.MaxStdout.
var ErrOutputTooLong = errors.New("child: output too long")

// ErrCPUTime reports a child the kernel killed for using up its processor
// time (Config.CPUTime).
var ErrCPUTime = errors.New("child: processor time limit reached")

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

// Run runs `sealgate-inner args…`, a child with no files of ours, to its
// end and returns its stdout.
func Run(ctx context.Context, opts Options, args ...string) ([]byte, error) {
	j, err := NewJob()
	if err != nil {
		return nil, err
	}
	defer j.Close()
	return j.Run(ctx, opts, args...)
}

// Run runs the job's child `sealgate-inner args…` to its end and returns
// its stdout. Whatever the child started is killed when it ends.
func (j *Job) Run(ctx context.Context, opts Options, args ...string) ([]byte, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd, err := j.Command(ctx, args...)
	if err != nil {
		return nil, err
	}
	cmd.Stdin = opts.Stdin
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
	said = j.Explain(said)
	err = cmd.Wait()
	killGroup(cmd) //nolint:errcheck // strays of a child that has ended: nothing left to report
	switch {
	case oerr != nil:
		return nil, &Error{Args: args, Err: oerr, Said: said}
	case err != nil && j.cpuExceeded(cmd.ProcessState):
		return nil, &Error{Args: args, Err: fmt.Errorf("%w (%d s)", ErrCPUTime, j.c.cpuMax), Said: said}
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
// did not consume, cut to 400 bytes for an error message. A child that
// crashed (a decoder's SIGSEGV, memory it could not get) is quoted by the
// runtime's first word on it, not the last line of the stack after it.
func scanStderr(r io.Reader, line func([]byte) bool) string {
	var last []byte
	crashed := false
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), maxLine)
	for sc.Scan() {
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 || crashed || (line != nil && line(b)) {
			continue
		}
		last = append(last[:0], b...)
		crashed = bytes.HasPrefix(b, []byte("fatal error: ")) || bytes.HasPrefix(b, []byte("panic: ")) ||
			bytes.HasPrefix(b, []byte("SIG"))
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
