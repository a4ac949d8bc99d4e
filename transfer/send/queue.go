package send

import (
	"context"
	"time"
)

// Item is a queued package.
type Item struct {
	ID      int64
	Package Package
}

// Queue is the durable outbox the sender works from; the inner daemon's
// database implements it (inner/outbox), so this package needs no database.
type Queue interface {
	// Next claims the most urgent package that is due, or returns nil.
	Next(ctx context.Context) (*Item, error)
	// Touch renews the claims on packages still being sent, so that only
	// the claims of a sender that died (killed, power lost) lapse.
	Touch(ctx context.Context, ids []int64) error
	// Delivered marks a package stored (or already held) by the outer.
	Delivered(ctx context.Context, id int64, res Result) error
	// Failed gives up on a package (final), or makes it due again: after a
	// growing backoff when the outer refused it for now (quota, disk full,
	// hash mismatch), soon when the link failed or the outer was busy.
	Failed(ctx context.Context, id int64, err error, final, backoff bool) error
}

// TouchEvery is how often a sender renews its claims; a queue reclaims a
// package whose claim was not renewed for several of these.
const TouchEvery = 10 * time.Second

// Backoff is the wait before attempt n+1: 2ⁿ seconds, at most 5 minutes.
func Backoff(attempts int) time.Duration {
	if attempts > 8 {
		return 5 * time.Minute
	}
	return min(time.Duration(1<<attempts)*time.Second, 5*time.Minute)
}
