package officers

import "time"

// SetClock replaces the registry's clock, for the tests of the purge.
func SetClock(r *Registry, now func() time.Time) { r.now = now }
