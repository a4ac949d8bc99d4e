// Package expiry destroys the packages the outer holds when their viewing
// window ends, or when an outer admin revokes one (PIPA art. 21: personal
// information is destroyed once its purpose is served). The sweeper runs
// continuously and catches up after downtime: a package whose window
// ended while the daemon was down is destroyed at its next start.
package expiry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"sealgate/outer/pkgstore"
)

// Every is how often the sweeper looks for packages due.
const Every = time.Minute

// Sweeper destroys what is due.
type Sweeper struct {
	store     *pkgstore.Store
	log       *slog.Logger
	now       func() time.Time
	destroyed *prometheus.CounterVec // by cause; nil: not counted (Register)
}

// New returns the sweeper over store.
func New(store *pkgstore.Store, log *slog.Logger) *Sweeper {
	return &Sweeper{store: store, log: log, now: time.Now}
}

// Run sweeps at once, then every minute, until ctx ends.
func (s *Sweeper) Run(ctx context.Context) error {
	t := time.NewTicker(Every)
	defer t.Stop()
	for {
		if _, err := s.Sweep(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("destroy expired packages", slog.Any("err", err))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Sweep destroys every available package whose viewing window has ended,
// and returns how many it destroyed. One that cannot be destroyed now is
// reported and tried again at the next sweep; the others go on.
func (s *Sweeper) Sweep(ctx context.Context) (int, error) {
	due, err := s.store.Due(ctx, s.now())
	if err != nil {
		return 0, err
	}
	var errs []error
	n := 0
	for _, p := range due {
		_, err := s.store.Destroy(ctx, p.ID, "system", "viewing period ended "+p.ExpiresAt.UTC().Format(time.RFC3339))
		switch {
		case errors.Is(err, pkgstore.ErrDestroyed): // another node did it
		case err != nil:
			errs = append(errs, err)
		default:
			n++
			s.count("expired")
			s.log.Info("package destroyed: viewing period ended", slog.String("package", p.ID), slog.String("export", p.ExportCode),
				slog.String("recipient", p.Recipient))
		}
	}
	return n, errors.Join(errs...)
}

// ErrReason: a revocation needs a reason, which the audit log keeps.
var ErrReason = errors.New("expiry: a revocation needs a reason (at least 5 characters, at most 1000)")

// Revoke destroys package id now, for admin, with the reason recorded.
func Revoke(ctx context.Context, store *pkgstore.Store, admin, id, why string) (*pkgstore.Package, error) {
	why = strings.TrimSpace(why)
	if n := utf8.RuneCountInString(why); n < 5 || len(why) > 1000 {
		return nil, ErrReason
	}
	p, err := store.Destroy(ctx, strings.ToLower(strings.TrimSpace(id)), admin, "revoked: "+why)
	if err != nil {
		return nil, fmt.Errorf("expiry: revoke %s: %w", id, err)
	}
	return p, nil
}
