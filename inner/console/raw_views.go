package console

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"sealgate/shared/audit"
)

// Raw (unmasked) frames of the review editor are personal data seen by a
// person, and every one seen is audited (trust rule 5): who, which
// workspace, which frames. An editor scrubbing through a clip asks for
// hundreds, so they are recorded as ranges: the first raw frame of a
// person's visit at once, the rest each rawFlushEvery, and what is
// pending when the daemon stops.
const rawFlushEvery = 30 * time.Second

type rawKey struct{ user, remote, workspace string }

type rawViews struct {
	mu      sync.Mutex
	pending map[rawKey][]int
	audit   *audit.Log
	log     *slog.Logger
}

func newRawViews(log *audit.Log, logger *slog.Logger) *rawViews {
	return &rawViews{pending: map[rawKey][]int{}, audit: log, log: logger}
}

// seen records that user looked at raw frame n of workspace. The first of
// a visit is written before the frame is sent: if it cannot be recorded,
// the frame is not shown.
func (r *rawViews) seen(ctx context.Context, user, remote, workspace string, n int) error {
	k := rawKey{user, remote, workspace}
	r.mu.Lock()
	frames, open := r.pending[k]
	if open {
		r.pending[k] = append(frames, n)
	} else {
		r.pending[k] = []int{}
	}
	r.mu.Unlock()
	if open {
		return nil
	}
	if err := r.write(ctx, k, []int{n}); err != nil {
		r.mu.Lock()
		delete(r.pending, k)
		r.mu.Unlock()
		return err
	}
	return nil
}

// Run writes what is pending every rawFlushEvery, and once more as ctx ends.
func (r *rawViews) Run(ctx context.Context) error {
	t := time.NewTicker(rawFlushEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			r.flush(context.WithoutCancel(ctx))
			return nil
		case <-t.C:
			r.flush(ctx)
		}
	}
}

func (r *rawViews) flush(ctx context.Context) {
	r.mu.Lock()
	batch := r.pending
	r.pending = map[rawKey][]int{}
	r.mu.Unlock()
	for k, frames := range batch {
		if len(frames) == 0 {
			continue // nothing seen since the visit's first frame
		}
		if err := r.write(ctx, k, frames); err != nil {
			r.log.Error("record raw frames seen", slog.String("user", k.user), slog.String("review", k.workspace), slog.Any("err", err))
		}
	}
}

func (r *rawViews) write(ctx context.Context, k rawKey, frames []int) error {
	return r.audit.Append(ctx, audit.Entry{Actor: k.user, Action: "mask.review.view_raw", Target: "review:" + k.workspace,
		Remote: k.remote, Outcome: audit.OK, Detail: "unmasked frames " + ranges(frames)})
}

// ranges writes frame numbers as sorted ranges: 0-12, 40, 51-60.
func ranges(frames []int) string {
	fs := slices.Compact(slices.Sorted(slices.Values(frames)))
	var b strings.Builder
	for i := 0; i < len(fs); {
		j := i
		for j+1 < len(fs) && fs[j+1] == fs[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Itoa(fs[i]))
		if j > i {
			fmt.Fprintf(&b, "-%d", fs[j])
		}
		i = j + 1
	}
	return b.String()
}
