package accountui

import "time"

// SetLimitClock replaces the sign-in rate limits' clock, so a test can count
// steps without the buckets refilling.
func SetLimitClock(ui *UI, now func() time.Time) {
	ui.limits.byAddr.mu.Lock()
	ui.limits.byAddr.now = now
	ui.limits.byAddr.mu.Unlock()
	ui.limits.byAccount.mu.Lock()
	ui.limits.byAccount.now = now
	ui.limits.byAccount.mu.Unlock()
}
