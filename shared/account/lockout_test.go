package account_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/pquerna/otp/totp"

	"sealgate/shared/account"
	"sealgate/shared/audit"
)

// totpUser is an account that has TOTP on, with its secret; the clock is
// moved past the confirming step so a fresh code is at hand.
func (f *fixture) totpUser(t *testing.T, name, role string) (*account.User, string) {
	t.Helper()
	ctx := context.Background()
	u := f.user(t, name, role)
	e, err := f.svc.BeginTOTP(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	code, _ := totp.GenerateCode(e.Secret, f.now)
	if _, err := f.svc.ConfirmTOTP(ctx, admin, u, code, ""); err != nil {
		t.Fatal(err)
	}
	f.now = f.now.Add(30 * time.Second)
	u, _ = f.svc.User(ctx, u.ID)
	return u, e.Secret
}

// countAudit counts entries of action (a prefix) with outcome whose detail
// contains detail.
func (f *fixture) countAudit(t *testing.T, action, outcome, detail string) int {
	t.Helper()
	entries, err := f.audit.Query(context.Background(), audit.Filter{Action: action, Limit: 10000})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if e.Outcome == outcome && strings.Contains(e.Detail, detail) {
			n++
		}
	}
	return n
}

// TestRightPasswordDoesNotResetCodeFailures: four wrong codes, the password
// again, one more wrong code, and the account is locked; the right code is
// refused. (A right password used to reset the count: unlimited guesses.)
func TestRightPasswordDoesNotResetCodeFailures(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, "inner")
	u, secret := f.totpUser(t, "approver.jang", "approver")
	signIn := func() {
		t.Helper()
		if _, err := f.svc.Login(ctx, "approver.jang", goodPassword, "10.2.2.2"); err != nil {
			t.Fatalf("right password: %v", err)
		}
	}
	signIn()
	for i := range 4 {
		if err := f.svc.VerifySecondFactor(ctx, admin, u, fmt.Sprintf("%06d", i)); !errors.Is(err, account.ErrBadCode) || errors.Is(err, account.ErrLocked) {
			t.Fatalf("wrong code %d: %v", i+1, err)
		}
	}
	signIn()
	if err := f.svc.VerifySecondFactor(ctx, admin, u, "999999"); !errors.Is(err, account.ErrLocked) {
		t.Fatalf("fifth wrong code: %v, want ErrLocked", err)
	}
	code, _ := totp.GenerateCode(secret, f.now)
	if err := f.svc.VerifySecondFactor(ctx, admin, u, code); !errors.Is(err, account.ErrBadCode) {
		t.Fatalf("right code after five failures: %v, want refused", err)
	}
	if got, _ := f.svc.User(ctx, u.ID); !got.Locked(f.now) || got.FailedLogins != account.MaxFailures {
		t.Fatalf("after 5 failures across steps: locked %v, %d failures", got.Locked(f.now), got.FailedLogins)
	}
	if _, err := f.svc.Login(ctx, "approver.jang", goodPassword, "10.2.2.2"); !errors.Is(err, account.ErrBadCredentials) {
		t.Fatalf("password while locked: %v", err)
	}
}

// TestCountResetsOnlyWhenSignInFinishes: passing a step takes back only its
// own count; reaching StageOK clears it.
func TestCountResetsOnlyWhenSignInFinishes(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, "inner")
	u, secret := f.totpUser(t, "approver.moon", "approver")
	f.svc.Login(ctx, "approver.moon", "wrong", "")
	f.svc.Login(ctx, "approver.moon", goodPassword, "")
	f.svc.VerifySecondFactor(ctx, admin, u, "000000")
	code, _ := totp.GenerateCode(secret, f.now)
	if err := f.svc.VerifySecondFactor(ctx, admin, u, code); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.svc.User(ctx, u.ID); got.FailedLogins != 2 {
		t.Fatalf("after 2 failures and 2 passed steps: %d failures, want 2", got.FailedLogins)
	}
	token, _ := f.svc.StartSession(ctx, u, account.StageTOTP, "", "")
	sess, _ := f.svc.Session(ctx, token)
	if _, err := f.svc.Advance(ctx, sess, account.StageOK); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.svc.User(ctx, u.ID); got.FailedLogins != 0 {
		t.Fatalf("after the sign-in finished: %d failures, want 0", got.FailedLogins)
	}
}

// TestParallelGuessesStopAtTheLimit: guesses sent at once are counted
// before they are checked, so no more than MaxFailures are looked at.
func TestParallelGuessesStopAtTheLimit(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, "inner")
	u, _ := f.totpUser(t, "approver.bae", "approver")
	parallel := func(n int, guess func(i int) error) {
		t.Helper()
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() { errs[i] = guess(i) })
		}
		wg.Wait()
		for i, err := range errs {
			if err == nil || !(errors.Is(err, account.ErrBadCode) || errors.Is(err, account.ErrBadCredentials)) {
				t.Fatalf("guess %d: %v", i, err)
			}
		}
	}
	parallel(50, func(i int) error { return f.svc.VerifySecondFactor(ctx, admin, u, fmt.Sprintf("%06d", 100000+i)) })
	got, _ := f.svc.User(ctx, u.ID)
	if got.FailedLogins > account.MaxFailures || !got.Locked(f.now) {
		t.Fatalf("50 parallel wrong codes: %d failures counted (max %d), locked %v", got.FailedLogins, account.MaxFailures, got.Locked(f.now))
	}
	if n := f.countAudit(t, "login.totp", audit.Denied, "wrong or reused code"); n > account.MaxFailures {
		t.Fatalf("%d codes were checked, want at most %d", n, account.MaxFailures)
	}

	// Passwords, which take an Argon2 check each, the same way.
	f.svc.Administer(ctx, admin, u.ID, account.OpUnlock)
	parallel(8, func(i int) error {
		_, err := f.svc.Login(ctx, "approver.bae", fmt.Sprintf("wrong %d", i), "")
		return err
	})
	if got, _ := f.svc.User(ctx, u.ID); got.FailedLogins > account.MaxFailures || !got.Locked(f.now) {
		t.Fatalf("8 parallel wrong passwords: %d failures counted, locked %v", got.FailedLogins, got.Locked(f.now))
	}
	if n := f.countAudit(t, "login", audit.Denied, "wrong password"); n > account.MaxFailures {
		t.Fatalf("%d passwords were checked, want at most %d", n, account.MaxFailures)
	}
}

// TestWrongCurrentPasswordCounts: guessing the current password on the
// password page locks the account like guessing at sign-in.
func TestWrongCurrentPasswordCounts(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, "inner")
	u := f.user(t, "operator.go", "operator")
	for i := range account.MaxFailures {
		err := f.svc.ChangePassword(ctx, admin, u.ID, fmt.Sprintf("guess %d", i), goodPassword+"x", nil)
		if !errors.Is(err, account.ErrBadCredentials) || errors.Is(err, account.ErrLocked) != (i == account.MaxFailures-1) {
			t.Fatalf("wrong current password %d: %v", i+1, err)
		}
	}
	if err := f.svc.ChangePassword(ctx, admin, u.ID, goodPassword, goodPassword+"x", nil); !errors.Is(err, account.ErrLocked) {
		t.Fatalf("right current password while locked: %v", err)
	}
	if _, err := f.svc.Login(ctx, "operator.go", goodPassword, ""); !errors.Is(err, account.ErrBadCredentials) {
		t.Fatalf("sign-in after %d wrong current passwords: %v", account.MaxFailures, err)
	}
	// The lock runs out: the count starts anew and the change goes through.
	f.now = f.now.Add(account.LockFor + time.Second)
	if err := f.svc.ChangePassword(ctx, admin, u.ID, goodPassword, goodPassword+"x", nil); err != nil {
		t.Fatalf("after the lock ran out: %v", err)
	}
}

// TestReenrolmentNeedsTheCurrentCode: with TOTP on, a new secret is taken
// only with a code of the present one, and a wrong one counts.
func TestReenrolmentNeedsTheCurrentCode(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, "outer")
	u, old := f.totpUser(t, "officer.nam", "officer")
	e, err := f.svc.BeginTOTP(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	next, _ := totp.GenerateCode(e.Secret, f.now)
	for _, current := range []string{"", "000000"} {
		if _, err := f.svc.ConfirmTOTP(ctx, admin, u, next, current); !errors.Is(err, account.ErrBadCurrentCode) {
			t.Fatalf("re-enrolment with current code %q: %v", current, err)
		}
	}
	if got, _ := f.svc.User(ctx, u.ID); got.FailedLogins != 2 {
		t.Fatalf("wrong current codes: %d failures, want 2", got.FailedLogins)
	}
	cur, _ := totp.GenerateCode(old, f.now)
	codes, err := f.svc.ConfirmTOTP(ctx, admin, u, next, cur)
	if err != nil || len(codes) != 10 {
		t.Fatalf("re-enrolment with the current code: %v", err)
	}
	f.now = f.now.Add(30 * time.Second)
	stale, _ := totp.GenerateCode(old, f.now)
	if err := f.svc.VerifySecondFactor(ctx, admin, u, stale); !errors.Is(err, account.ErrBadCode) {
		t.Fatalf("the replaced secret's code: %v", err)
	}
	fresh, _ := totp.GenerateCode(e.Secret, f.now)
	if err := f.svc.VerifySecondFactor(ctx, admin, u, fresh); err != nil {
		t.Fatalf("the new secret's code: %v", err)
	}
}

// TestTypedUsernameIsCleanedBeforeItIsRecorded: an unauthenticated name
// reaches the audit log at most MaxUsernameInput bytes long, without
// control characters.
func TestTypedUsernameIsCleanedBeforeItIsRecorded(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, "inner")
	for _, tc := range []struct{ name, typed string }{
		{"1 MiB", strings.Repeat("a", 1<<20-100)},
		{"NUL and newlines", "admin\x00\r\nFORGED login ok\x1b[2J"},
		{"bidi override", "evil\u202egnp.exe"},
		{"invalid UTF-8", "kim\xff\xfe"},
		{"Hangul cut on a character", strings.Repeat("경", 30)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := f.svc.Login(ctx, tc.typed, "whatever", "10.9.9.9"); !errors.Is(err, account.ErrBadCredentials) {
				t.Fatalf("Login: %v", err)
			}
			entries, err := f.audit.Query(ctx, audit.Filter{Action: "login", Limit: 1})
			if err != nil || len(entries) != 1 {
				t.Fatalf("audit: %v", err)
			}
			got := entries[0].Target
			if len(got) > account.MaxUsernameInput || !utf8.ValidString(got) || got == "" {
				t.Fatalf("recorded name: %d bytes, valid UTF-8 %v", len(got), utf8.ValidString(got))
			}
			for _, r := range got {
				if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
					t.Fatalf("recorded name %q keeps %U", got, r)
				}
			}
		})
	}
	if _, err := f.audit.Verify(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestCleanUsername(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"chief", "chief"},
		{"chi\x00ef\n", "chief"},
		{"a\u200bb\u202ec", "abc"},
		{strings.Repeat("x", 100), strings.Repeat("x", account.MaxUsernameInput)},
		{strings.Repeat("경", 30), strings.Repeat("경", account.MaxUsernameInput/3)},
	} {
		if got := account.CleanUsername(tc.in); got != tc.want {
			t.Errorf("CleanUsername(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
