package review

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"sealgate/inner/mask/plan"
)

// Worker is the daemon's side of one review worker process. Requests are
// answered one at a time; a worker that breaks the protocol, dies or
// outlives its caller's context is killed, and Alive says so.
type Worker struct {
	Clip Clip

	mu     sync.Mutex
	cmd    *exec.Cmd
	in     io.WriteCloser
	out    *bufio.Reader
	stderr *tailBuffer
	dead   atomic.Bool
	once   sync.Once
	used   atomic.Int64 // unix nanoseconds of the last answer; read without mu while a request runs
}

// startTimeout bounds the worker's probe of its clip.
const startTimeout = 2 * time.Minute

// Start runs cmd (a `sealgate-inner review-worker`) and waits for it to
// describe its clip.
func Start(ctx context.Context, cmd *exec.Cmd) (*Worker, error) {
	w := &Worker{cmd: cmd, stderr: &tailBuffer{max: 4 << 10}}
	w.used.Store(time.Now().UnixNano())
	cmd.Stderr = w.stderr
	var err error
	if w.in, err = cmd.StdinPipe(); err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	w.out = bufio.NewReaderSize(stdout, 256<<10)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the review worker: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	stop := context.AfterFunc(ctx, w.kill)
	defer stop()
	ans, _, err := w.read()
	if err != nil {
		w.kill()
		return nil, w.explain(err)
	}
	clip, err := hello(ans)
	if err != nil {
		w.kill()
		return nil, err
	}
	w.Clip = *clip
	return w, nil
}

// hello checks the worker's first answer, its clip. The worker parses
// untrusted video, so a description no probe could give is refused.
func hello(ans Answer) (*Clip, error) {
	if ans.Error != "" || ans.Clip == nil {
		return nil, fmt.Errorf("review worker: %s", ans.Error)
	}
	c := ans.Clip
	if c.Width < 1 || c.Width > plan.MaxDimension || c.Height < 1 || c.Height > plan.MaxDimension ||
		c.Frames < 0 || c.Frames > plan.MaxFrames || len(c.Times) != c.Frames || c.FrameRate < 0 {
		return nil, fmt.Errorf("review worker: implausible clip: %d×%d, %d frames, %d times, %v fps", c.Width, c.Height, c.Frames, len(c.Times), c.FrameRate)
	}
	return c, nil
}

// Frame is frame i as JPEG at most width wide (by a whole factor), with
// mask's boxes masked if mask is set.
func (w *Worker) Frame(ctx context.Context, i, width int, mask *MaskSpec) ([]byte, error) {
	_, img, err := w.call(ctx, Request{Op: OpFrame, Frame: i, Width: width, Mask: mask})
	return img, err
}

// Track carries box (drawn on frame i) at most span frames each way (or
// only forwards) and
// returns a box per frame, in order, the drawn one included.
func (w *Worker) Track(ctx context.Context, i int, box plan.Box, span int, dir Direction) ([]plan.Box, error) {
	ans, _, err := w.call(ctx, Request{Op: OpTrack, Frame: i, Box: &box, Span: span, Forwards: dir == Forwards})
	return ans.Boxes, err
}

// Direction is which way Track carries a box.
type Direction int

const (
	BothWays Direction = iota // a new box: before and after its frame
	Forwards                  // a corrected box: from its frame on
)

// Alive reports whether the worker can still answer.
func (w *Worker) Alive() bool { return !w.dead.Load() }

// IdleSince is when the worker last answered.
func (w *Worker) IdleSince() time.Time { return time.Unix(0, w.used.Load()) }

// Close ends the worker.
func (w *Worker) Close() { w.kill() }

// RequestError is the worker's refusal of one request (a frame that does
// not exist, a box outside the picture); the worker stays usable.
type RequestError struct{ Msg string }

func (e *RequestError) Error() string { return e.Msg }

func (w *Worker) call(ctx context.Context, req Request) (Answer, []byte, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.dead.Load() {
		return Answer{}, nil, errors.New("the review worker has stopped")
	}
	b, err := json.Marshal(req)
	if err != nil {
		return Answer{}, nil, err
	}
	stop := context.AfterFunc(ctx, w.kill)
	defer stop()
	if _, err := w.in.Write(append(b, '\n')); err != nil {
		w.kill()
		return Answer{}, nil, w.explain(err)
	}
	ans, img, err := w.read()
	if err != nil {
		w.kill()
		if ctx.Err() != nil {
			return Answer{}, nil, ctx.Err()
		}
		return Answer{}, nil, w.explain(err)
	}
	w.used.Store(time.Now().UnixNano())
	if ans.Error != "" {
		return Answer{}, nil, &RequestError{ans.Error}
	}
	return ans, img, nil
}

// read reads one answer and the JPEG that follows it, bounded.
func (w *Worker) read() (Answer, []byte, error) {
	var line []byte
	for {
		chunk, err := w.out.ReadSlice('\n')
		line = append(line, chunk...)
		if len(line) > maxLine {
			return Answer{}, nil, errors.New("review worker: answer too long")
		}
		if err == nil {
			break
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return Answer{}, nil, err
		}
	}
	var ans Answer
	if err := json.Unmarshal(line, &ans); err != nil {
		return Answer{}, nil, fmt.Errorf("review worker: bad answer: %w", err)
	}
	if ans.JPEG < 0 || ans.JPEG > maxJPEG {
		return Answer{}, nil, fmt.Errorf("review worker: picture of %d bytes", ans.JPEG)
	}
	var img []byte
	if ans.JPEG > 0 {
		img = make([]byte, ans.JPEG)
		if _, err := io.ReadFull(w.out, img); err != nil {
			return Answer{}, nil, err
		}
	}
	return ans, img, nil
}

// kill ends the process and reaps it, once; safe from any goroutine.
func (w *Worker) kill() {
	w.once.Do(func() {
		w.dead.Store(true)
		w.in.Close()
		if w.cmd.Process != nil {
			w.cmd.Process.Kill()
			w.cmd.Wait() //nolint:errcheck // killed: its exit says nothing
		}
	})
}

// explain adds what the worker said on stderr before it failed.
func (w *Worker) explain(err error) error {
	time.Sleep(50 * time.Millisecond) // let the dying worker's last words arrive
	if msg := strings.TrimSpace(w.stderr.String()); msg != "" {
		return fmt.Errorf("review worker: %w: %s", err, msg)
	}
	return fmt.Errorf("review worker: %w", err)
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   bytes.Buffer
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b.Write(p)
	if over := t.b.Len() - t.max; over > 0 {
		t.b.Next(over)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.b.String()
}
