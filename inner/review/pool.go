package review

import (
	"context"
	"errors"
	"sync"
	"time"

	"sealgate/inner/child"
)

// ErrStopped: the pool's daemon is stopping and starts no more workers.
var ErrStopped = errors.New("review: the worker pool has stopped")

// Pool keeps the live review workers of this node, one per open clip: at
// most max (each holds a decoder and a clip's index), the least recently
// used stopped for a new one, and any left idle for idle reaped. It is a
// daemon component: Run reaps until the daemon stops, then stops them all.
type Pool struct {
	max  int
	idle time.Duration

	// Workers outlive the request that started them, so they run under the
	// pool's own context, which Run cancels when the daemon stops.
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	workers map[string]*Worker
}

// NewPool keeps at most max workers, each stopped after idle unused.
func NewPool(max int, idle time.Duration) *Pool {
	ctx, cancel := context.WithCancel(context.Background())
	return &Pool{max: max, idle: idle, ctx: ctx, cancel: cancel, workers: map[string]*Worker{}}
}

// Get is the live worker for clip id (at path source), started if need be.
// ctx bounds the start, not the worker.
func (p *Pool) Get(ctx context.Context, id, source string) (*Worker, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ctx.Err() != nil {
		return nil, ErrStopped
	}
	if w := p.workers[id]; w != nil && w.Alive() {
		return w, nil
	}
	delete(p.workers, id)
	for len(p.workers) >= p.max {
		oldest := ""
		for k, w := range p.workers {
			if oldest == "" || w.IdleSince().Before(p.workers[oldest].IdleSince()) {
				oldest = k
			}
		}
		p.workers[oldest].Close()
		delete(p.workers, oldest)
	}
	// The worker is a confined child that reads the clip through the
	// descriptor its job hands over; once started it holds its own copy.
	j, err := child.NewJob()
	if err != nil {
		return nil, err
	}
	defer j.Close()
	in, err := j.Input(source)
	if err != nil {
		return nil, err
	}
	cmd, err := j.Command(p.ctx, "review-worker", "--in", in)
	if err != nil {
		return nil, err
	}
	w, err := Start(ctx, cmd)
	if err != nil {
		return nil, err
	}
	p.workers[id] = w
	return w, nil
}

// Close stops clip id's worker, if it has one.
func (p *Pool) Close(id string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if w := p.workers[id]; w != nil {
		w.Close()
		delete(p.workers, id)
	}
}

// Run reaps idle workers until ctx ends, then stops every worker and
// refuses to start more.
func (p *Pool) Run(ctx context.Context) error {
	tick := time.NewTicker(min(p.idle, time.Minute))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			p.mu.Lock()
			p.cancel()
			for id, w := range p.workers {
				w.Close()
				delete(p.workers, id)
			}
			p.mu.Unlock()
			return nil
		case <-tick.C:
			p.reap()
		}
	}
}

func (p *Pool) reap() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for id, w := range p.workers {
		if !w.Alive() || time.Since(w.IdleSince()) > p.idle {
			w.Close()
			delete(p.workers, id)
		}
	}
}
