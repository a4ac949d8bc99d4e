package expiry

import "time"

// SetClock makes the sweeper read the time from now (tests).
func SetClock(s *Sweeper, now func() time.Time) { s.now = now }
