package account

import "time"

// SetClock replaces the service's clock, for lockout and session expiry tests.
func SetClock(s *Service, now func() time.Time) { s.now = now }

// CheckTOTP exposes the TOTP check for tests.
var CheckTOTP = checkTOTP
