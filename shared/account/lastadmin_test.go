package account_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"sealgate/shared/account"
)

// Two admins disabling each other at the same moment leave one enabled
// admin, however the two transactions interleave.
func TestAdminsDisablingEachOtherLeaveOne(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, "inner")
	for round := range 5 {
		a := f.user(t, "chief.a"+string(rune('0'+round)), "admin")
		b := f.user(t, "chief.b"+string(rune('0'+round)), "admin")
		var wg sync.WaitGroup
		errs := make([]error, 2)
		start := make(chan struct{})
		for i, pair := range [][2]*account.User{{a, b}, {b, a}} {
			wg.Go(func() {
				<-start
				_, errs[i] = f.svc.Administer(ctx, account.Actor{Name: pair[0].Username, Remote: "test"}, pair[1].ID, account.OpDisable)
			})
		}
		close(start)
		wg.Wait()
		var enabled int
		if err := f.pool.QueryRow(ctx, `SELECT count(*) FROM users WHERE role = 'admin' AND NOT disabled`).Scan(&enabled); err != nil {
			t.Fatal(err)
		}
		if enabled != 1 {
			t.Fatalf("round %d: %d enabled admins after each disabled the other (%v, %v)", round, enabled, errs[0], errs[1])
		}
		if !errors.Is(errs[0], account.ErrLastAdmin) && !errors.Is(errs[1], account.ErrLastAdmin) {
			t.Fatalf("round %d: neither was refused: %v, %v", round, errs[0], errs[1])
		}
		// The survivor is disabled directly, so the next round starts with none.
		if _, err := f.pool.Exec(ctx, `UPDATE users SET disabled = true WHERE role = 'admin'`); err != nil {
			t.Fatal(err)
		}
	}
}
