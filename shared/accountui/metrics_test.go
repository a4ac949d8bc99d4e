package accountui_test

import (
	"maps"
	"net/http"
	"testing"
)

// TestSignInStepsAreCounted: each step's outcome reaches the counter a
// security team watches, and a completed sign-in counts once.
func TestSignInStepsAreCounted(t *testing.T) {
	s := newSite(t)
	_, recovery := s.totpUser(t, "approver.oh", "approver")
	b := s.browser(t, "")
	code, loc := b.post(t, "/login", "username", "approver.oh", "password", "not the password at all")
	want(t, "wrong password", code, loc, http.StatusUnauthorized, "")
	code, loc = b.post(t, "/login", "username", "approver.oh", "password", password)
	want(t, "sign in", code, loc, http.StatusSeeOther, "/totp")
	code, loc = b.post(t, "/totp", "code", "000000")
	want(t, "wrong code", code, loc, http.StatusUnauthorized, "")
	code, loc = b.post(t, "/totp", "code", recovery[0])
	want(t, "recovery code", code, loc, http.StatusSeeOther, "/")
	wanted := map[string]float64{"ok": 1, "bad_password": 1, "bad_code": 1, "locked": 0, "rate_limited": 0}
	if got := s.signInSteps(t); !maps.Equal(got, wanted) {
		t.Fatalf("signin_steps_total = %v, want %v", got, wanted)
	}
}

// signInSteps reads sealgate_accountui_signin_steps_total by outcome.
func (s *site) signInSteps(t *testing.T) map[string]float64 {
	t.Helper()
	families, err := s.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range families {
		if f.GetName() != "sealgate_accountui_signin_steps_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			got[m.GetLabel()[0].GetValue()] = m.GetCounter().GetValue()
		}
	}
	return got
}
