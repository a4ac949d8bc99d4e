package console

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"sealgate/inner/export"
)

// live fans the database's export notifications (export.Notify, sent by
// any node) out to the pages following them over server-sent events: one
// listening connection for all of them, not one per open page.
type live struct {
	pool *pgxpool.Pool
	mu   sync.Mutex
	subs map[chan int64]struct{}
}

func newLive(pool *pgxpool.Pool) *live { return &live{pool: pool, subs: map[chan int64]struct{}{}} }

// subscribe returns a channel of changed export ids and its cancel.
func (l *live) subscribe() (<-chan int64, func()) {
	ch := make(chan int64, 16)
	l.mu.Lock()
	l.subs[ch] = struct{}{}
	l.mu.Unlock()
	return ch, func() {
		l.mu.Lock()
		delete(l.subs, ch)
		l.mu.Unlock()
	}
}

func (l *live) publish(id int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for ch := range l.subs {
		select {
		case ch <- id:
		default: // a slow page misses a beat; the next one carries the state
		}
	}
}

// Run listens until ctx ends, reconnecting after a lost connection.
func (l *live) Run(ctx context.Context) error {
	for ctx.Err() == nil {
		err := l.listen(ctx)
		if ctx.Err() != nil {
			return nil
		}
		_ = err // the database restarted or the connection dropped: listen again
		select {
		case <-ctx.Done():
		case <-time.After(2 * time.Second):
		}
	}
	return nil
}

func (l *live) listen(ctx context.Context) error {
	conn, err := l.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "LISTEN "+export.Notify); err != nil {
		return fmt.Errorf("console: listen: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), "UNLISTEN "+export.Notify)
	for {
		n, err := conn.Conn().WaitForNotification(ctx)
		if err != nil {
			return err
		}
		if id, err := strconv.ParseInt(n.Payload, 10, 64); err == nil {
			l.publish(id)
		}
	}
}
