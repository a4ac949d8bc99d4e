package accountui_test

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/pquerna/otp/totp"

	"sealgate/shared/account"
	"sealgate/shared/accountui"
	"sealgate/shared/audit"
)

// TestCodeGuessesDoNotRestartWithThePassword: four wrong codes, the
// password again, one wrong code: the account is locked, the half-finished
// sign-in is over and the right code gets nowhere. (A right password used
// to reset the count, so a known password meant unlimited code guesses.)
func TestCodeGuessesDoNotRestartWithThePassword(t *testing.T) {
	s := newSite(t)
	u, recovery := s.totpUser(t, "approver.jang", "approver")
	b := s.browser(t, "")
	code, loc := b.post(t, "/login", "username", "approver.jang", "password", password)
	want(t, "sign in", code, loc, http.StatusSeeOther, "/totp")
	for i := range 4 {
		code, loc = b.post(t, "/totp", "code", fmt.Sprintf("%06d", i))
		want(t, fmt.Sprintf("wrong code %d", i+1), code, loc, http.StatusUnauthorized, "")
	}
	code, loc = b.post(t, "/login", "username", "approver.jang", "password", password)
	want(t, "the password again", code, loc, http.StatusSeeOther, "/totp")
	code, loc = b.post(t, "/totp", "code", "999999")
	want(t, "fifth wrong code", code, loc, http.StatusUnauthorized, "")
	code, loc = b.post(t, "/totp", "code", recovery[0])
	if code == http.StatusSeeOther {
		t.Fatalf("the right code after five failures signed in (to %s)", loc)
	}
	if got, _ := s.svc.User(context.Background(), u.ID); !got.Locked(time.Now()) {
		t.Fatalf("not locked after five failures across steps (%d counted)", got.FailedLogins)
	}
	code, loc = b.post(t, "/login", "username", "approver.jang", "password", password)
	want(t, "the password while locked", code, loc, http.StatusUnauthorized, "")
}

// TestWrongCurrentPasswordLocksAtFirstSignIn: the forced password change
// counts a wrong current password; the fifth ends the sign-in.
func TestWrongCurrentPasswordLocksAtFirstSignIn(t *testing.T) {
	s := newSite(t)
	if _, _, err := s.svc.CreateUser(context.Background(), tester, account.NewUser{Username: "operator.yoo", Role: "operator", Password: given}); err != nil {
		t.Fatal(err)
	}
	b := s.browser(t, "")
	code, loc := b.post(t, "/login", "username", "operator.yoo", "password", given)
	want(t, "sign in", code, loc, http.StatusSeeOther, "/password")
	for i := range account.MaxFailures - 1 {
		code, loc = b.post(t, "/password", "current", fmt.Sprintf("guess %d", i), "new", password, "confirm", password)
		want(t, fmt.Sprintf("wrong current password %d", i+1), code, loc, http.StatusBadRequest, "")
	}
	code, loc = b.post(t, "/password", "current", "guess 5", "new", password, "confirm", password)
	want(t, "fifth wrong current password", code, loc, http.StatusUnauthorized, "")
	code, loc, _ = b.get(t, "/password")
	want(t, "the password page after the lock", code, loc, http.StatusSeeOther, "/login")
	code, loc = b.post(t, "/login", "username", "operator.yoo", "password", given)
	want(t, "the password while locked", code, loc, http.StatusUnauthorized, "")
}

// TestStepsDrawOnTheAccountBudget: sign-in steps on one account from many
// addresses (here right passwords, which the lockout does not stop, and
// wrong codes) run out at StepsPerMinute, whatever the step.
func TestStepsDrawOnTheAccountBudget(t *testing.T) {
	s := newSite(t)
	_, recovery := s.totpUser(t, "approver.kim", "approver")
	var first *browser
	for i := range accountui.StepsPerMinute - 4 {
		b := s.browser(t, fmt.Sprintf("127.0.0.%d", 10+i))
		code, loc := b.post(t, "/login", "username", "approver.kim", "password", password)
		want(t, fmt.Sprintf("sign-in %d", i+1), code, loc, http.StatusSeeOther, "/totp")
		if first == nil {
			first = b
		}
	}
	for i := range 4 {
		code, loc := first.post(t, "/totp", "code", fmt.Sprintf("%06d", i))
		want(t, fmt.Sprintf("wrong code %d", i+1), code, loc, http.StatusUnauthorized, "")
	}
	code, loc := first.post(t, "/totp", "code", recovery[0])
	want(t, "a step past the account's budget", code, loc, http.StatusTooManyRequests, "")
	// Another account is not held up.
	s.totpUser(t, "approver.ryu", "approver")
	code, loc = s.browser(t, "127.0.0.40").post(t, "/login", "username", "approver.ryu", "password", password)
	want(t, "another account", code, loc, http.StatusSeeOther, "/totp")
}

// TestStepsDrawOnTheAddressBudget: the challenge and the password page
// share the sign-in budget of the client's address.
func TestStepsDrawOnTheAddressBudget(t *testing.T) {
	s := newSite(t)
	_, recovery := s.totpUser(t, "approver.oh", "approver")
	s.totpUser(t, "approver.shin", "approver")
	b := s.browser(t, "127.0.0.50")
	code, loc := b.post(t, "/login", "username", "approver.shin", "password", password)
	want(t, "sign in", code, loc, http.StatusSeeOther, "/totp")
	for i := range 4 {
		code, loc = b.post(t, "/totp", "code", fmt.Sprintf("%06d", i))
		want(t, fmt.Sprintf("wrong code %d", i+1), code, loc, http.StatusUnauthorized, "")
	}
	code, loc = b.post(t, "/login", "username", "approver.oh", "password", password)
	want(t, "sign in as another", code, loc, http.StatusSeeOther, "/totp")
	for i := range 4 {
		code, loc = b.post(t, "/totp", "code", fmt.Sprintf("%06d", 10+i))
		want(t, fmt.Sprintf("wrong code %d", i+1), code, loc, http.StatusUnauthorized, "")
	}
	code, loc = b.post(t, "/totp", "code", recovery[0])
	want(t, "a step past the address's budget", code, loc, http.StatusTooManyRequests, "")
	code, loc = s.browser(t, "127.0.0.51").post(t, "/login", "username", "approver.oh", "password", password)
	want(t, "another address", code, loc, http.StatusSeeOther, "/totp")
}

var recoveryRE = regexp.MustCompile(`<li><code>([a-z0-9-]{14})</code></li>`)

var secretRE = regexp.MustCompile(`<code id="secret">([A-Z2-7]+)</code>`)

// TestReenrolmentNeedsTheCurrentCode: the first sign-in enrols TOTP with
// the new key's code alone and clears the failure count once it is done;
// after that a signed-in session alone cannot replace the second factor.
func TestReenrolmentNeedsTheCurrentCode(t *testing.T) {
	ctx := context.Background()
	s := newSite(t)
	u, _, err := s.svc.CreateUser(ctx, tester, account.NewUser{Username: "approver.han", Role: "approver", Password: given})
	if err != nil {
		t.Fatal(err)
	}
	b := s.browser(t, "")
	code, loc := b.post(t, "/login", "username", "approver.han", "password", "wrong")
	want(t, "a wrong password", code, loc, http.StatusUnauthorized, "")
	code, loc = b.post(t, "/login", "username", "approver.han", "password", given)
	want(t, "sign in", code, loc, http.StatusSeeOther, "/password")
	code, loc = b.post(t, "/password", "current", given, "new", password, "confirm", password)
	want(t, "first password change", code, loc, http.StatusSeeOther, "/totp/enroll")
	code, _, page := b.get(t, "/totp/enroll")
	m := secretRE.FindStringSubmatch(page)
	if code != http.StatusOK || m == nil || strings.Contains(page, `name="current"`) {
		t.Fatalf("first enrolment page: %d, secret shown %v, asks for a current code %v", code, m != nil, strings.Contains(page, `name="current"`))
	}
	first, _ := totp.GenerateCode(m[1], time.Now())
	status, _, body := b.do(t, http.MethodPost, "/totp/enroll", form("code", first))
	recovery := recoveryRE.FindAllStringSubmatch(body, -1)
	if status != http.StatusOK || len(recovery) != 10 {
		t.Fatalf("first enrolment: %d, %d recovery codes", status, len(recovery))
	}
	if got, _ := s.svc.User(ctx, u.ID); got.FailedLogins != 0 {
		t.Fatalf("after the first sign-in finished: %d failures, want 0", got.FailedLogins)
	}

	code, _, page = b.get(t, "/totp/enroll")
	m = secretRE.FindStringSubmatch(page)
	if code != http.StatusOK || m == nil || !strings.Contains(page, `name="current"`) {
		t.Fatalf("enrolment page when signed in: %d, asks for the current code: %v", code, strings.Contains(page, `name="current"`))
	}
	next := func() string { c, _ := totp.GenerateCode(m[1], time.Now()); return c }
	for _, current := range []string{"", "000000"} {
		status, _, body := b.do(t, http.MethodPost, "/totp/enroll", form("code", next(), "current", current))
		if status != http.StatusUnauthorized || recoveryRE.MatchString(body) {
			t.Fatalf("re-enrolment with current code %q: %d, recovery codes shown: %v", current, status, recoveryRE.MatchString(body))
		}
	}
	if got, _ := s.svc.User(ctx, u.ID); got.FailedLogins != 2 {
		t.Fatalf("two wrong current codes: %d failures counted, want 2", got.FailedLogins)
	}
	status, _, body = b.do(t, http.MethodPost, "/totp/enroll", form("code", next(), "current", recovery[0][1]))
	if status != http.StatusOK || len(recoveryRE.FindAllString(body, -1)) != 10 {
		t.Fatalf("re-enrolment with the current code: %d\n%.600s", status, body)
	}
}

// TestTypedUsernameIsCappedInTheAuditLog: a name up to the body limit,
// with control characters, is recorded cut to 64 bytes and cleaned.
func TestTypedUsernameIsCappedInTheAuditLog(t *testing.T) {
	s := newSite(t)
	b := s.browser(t, "")
	name := "\x00evil\r\n\u202e" + strings.Repeat("a", 900_000)
	status, _, _ := b.do(t, http.MethodPost, "/login", form("username", name, "password", "x"))
	if status != http.StatusUnauthorized {
		t.Fatalf("a huge user name: %d, want 401", status)
	}
	entries, err := s.audit.Query(context.Background(), audit.Filter{Action: "login", Limit: 1})
	if err != nil || len(entries) != 1 {
		t.Fatalf("audit: %d entries, %v", len(entries), err)
	}
	got := entries[0].Target
	if len(got) > account.MaxUsernameInput || !strings.HasPrefix(got, "evil") {
		t.Fatalf("recorded name: %d bytes, starts %.20q", len(got), got)
	}
	for _, r := range got {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			t.Fatalf("recorded name keeps %U", r)
		}
	}
}
