package account_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/pquerna/otp/totp"

	"sealgate/shared/account"
	"sealgate/shared/audit"
	"sealgate/shared/pgdb"
	"sealgate/shared/pgdb/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

type fixture struct {
	svc   *account.Service
	pool  *pgxpool.Pool
	audit *audit.Log
	now   time.Time
}

var admin = account.Actor{Name: "root", Remote: "cli"}

// newFixture is an inner daemon's account service on a fresh database,
// with a clock the test moves.
func newFixture(t *testing.T, daemon string) *fixture {
	t.Helper()
	pool := pgtest.NewPool(t, pgdb.MustMigrations(account.Schema, audit.Schema))
	var err error
	key := make([]byte, 96)
	rand.Read(key)
	f := &fixture{pool: pool, audit: audit.New(pool, key[:32]), now: time.Now()}
	roles, totpRoles := []string{"admin", "operator", "approver", "auditor"}, []string{"admin", "approver"}
	if daemon == "outer" {
		roles, totpRoles = []string{"admin", "officer"}, []string{"admin", "officer"}
	}
	f.svc, err = account.NewService(context.Background(), pool, account.Config{Issuer: "Sealgate test", Roles: roles, TOTPRoles: totpRoles, PIIKey: key[32:], Audit: f.audit, PasswordCost: account.TestPasswordCost})
	if err != nil {
		t.Fatal(err)
	}
	account.SetClock(f.svc, func() time.Time { return f.now })
	return f
}

const goodPassword = "Hwangsa-Bridge 7 lanterns!"

func (f *fixture) user(t *testing.T, name, role string) *account.User {
	t.Helper()
	u, _, err := f.svc.CreateUser(context.Background(), admin, account.NewUser{Username: name, Role: role, Password: goodPassword})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestPasswordPolicy(t *testing.T) {
	for _, tc := range []struct{ pw, reason string }{
		{"Sh0rt!", "pw.short"},
		{"alllowercaseletters", "pw.classes"},
		{"Password123!", "pw.guess"},
		{"Qwerty123456!", "pw.guess"},
		{"Kim.minji-2026!", "pw.username"},
		{"Seoul2026!!!", "pw.guess"},
		{strings.Repeat("Aa1!", 40), "pw.long"},
		{goodPassword, ""},
		{"경찰청 증거영상 Q7!", ""},
	} {
		err := account.CheckPassword(tc.pw, "kim.minji")
		var pe *account.PolicyError
		if tc.reason == "" {
			if err != nil {
				t.Errorf("%q refused: %v", tc.pw, err)
			}
			continue
		}
		if !errors.As(err, &pe) || pe.Reason != tc.reason {
			t.Errorf("%q: %v, want %s", tc.pw, err, tc.reason)
		}
	}
}

func TestCreateUser(t *testing.T) {
	ctx := context.Background()
	for _, daemon := range []string{"inner", "outer"} {
		t.Run(daemon, func(t *testing.T) {
			f := newFixture(t, daemon)
			u, pw, err := f.svc.CreateUser(ctx, admin, account.NewUser{Username: "kim.minji", Role: "admin", FullName: "김민지", Phone: "010-1234-5678", Affiliation: "종합상황실"})
			if err != nil || len(pw) != 20 || !u.MustChangePassword || u.FullName != "김민지" {
				t.Fatalf("CreateUser: %+v %q %v", u, pw, err)
			}
			if _, _, err := f.svc.CreateUser(ctx, admin, account.NewUser{Username: "kim.minji", Role: "admin"}); !errors.Is(err, account.ErrUserExists) {
				t.Errorf("duplicate: %v", err)
			}
			wrongRole := map[string]string{"inner": "officer", "outer": "approver"}[daemon]
			if _, _, err := f.svc.CreateUser(ctx, admin, account.NewUser{Username: "park", Role: wrongRole}); !errors.Is(err, account.ErrBadRole) {
				t.Errorf("role %s on %s: %v", wrongRole, daemon, err)
			}
			if _, _, err := f.svc.CreateUser(ctx, admin, account.NewUser{Username: "Bad Name", Role: "admin"}); !errors.Is(err, account.ErrBadUsername) {
				t.Errorf("bad username: %v", err)
			}
			var pe *account.PolicyError
			if _, _, err := f.svc.CreateUser(ctx, admin, account.NewUser{Username: "lee", Role: "admin", Password: "password1"}); !errors.As(err, &pe) {
				t.Errorf("weak given password: %v", err)
			}
		})
	}
}

func TestPersonalDataIsEncryptedAndSearchable(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, "outer")
	if _, _, err := f.svc.CreateUser(ctx, admin, account.NewUser{Username: "officer.choi", Role: "officer", FullName: "최지훈", Phone: "010-9876-5432", Affiliation: "서울중부경찰서"}); err != nil {
		t.Fatal(err)
	}
	var name, phone, aff []byte
	f.pool.QueryRow(ctx, `SELECT full_name, phone, affiliation FROM users WHERE username = 'officer.choi'`).Scan(&name, &phone, &aff)
	for _, raw := range [][]byte{name, phone, aff} {
		if len(raw) == 0 || bytes.Contains(raw, []byte("최지훈")) || bytes.Contains(raw, []byte("9876")) || bytes.Contains(raw, []byte("경찰서")) {
			t.Fatalf("personal data stored in clear: %q", raw)
		}
	}
	for _, q := range []string{"01098765432", "010 9876 5432", "최지훈"} {
		us, err := f.svc.Users(ctx, q)
		if err != nil || len(us) != 1 || us[0].Phone != "010-9876-5432" {
			t.Errorf("search %q: %+v %v", q, us, err)
		}
	}
	// A ciphertext moved to another row does not decrypt.
	f.svc.CreateUser(ctx, admin, account.NewUser{Username: "officer.han", Role: "officer", FullName: "한"})
	f.pool.Exec(ctx, `UPDATE users SET full_name = (SELECT full_name FROM users WHERE username = 'officer.choi') WHERE username = 'officer.han'`)
	if _, err := f.svc.Users(ctx, ""); err == nil {
		t.Fatal("a personal-data ciphertext moved between rows decrypted")
	}
}

func TestLoginLockoutAndUnlock(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, "inner")
	u := f.user(t, "operator.yoon", "operator")
	if _, err := f.svc.Login(ctx, "operator.yoon", goodPassword, "10.1.1.1"); err != nil {
		t.Fatalf("right password: %v", err)
	}
	if _, err := f.svc.Login(ctx, "nobody", goodPassword, "10.1.1.1"); !errors.Is(err, account.ErrBadCredentials) {
		t.Fatalf("unknown user: %v", err)
	}
	for i := range 5 {
		if _, err := f.svc.Login(ctx, "operator.yoon", "wrong password "+string(rune('a'+i)), "10.1.1.1"); !errors.Is(err, account.ErrBadCredentials) {
			t.Fatalf("wrong password %d: %v", i+1, err)
		}
	}
	// The sixth attempt, even with the right password, is refused.
	if _, err := f.svc.Login(ctx, "operator.yoon", goodPassword, "10.1.1.1"); !errors.Is(err, account.ErrBadCredentials) {
		t.Fatalf("sixth attempt while locked: %v", err)
	}
	locked, _ := f.svc.User(ctx, u.ID)
	if !locked.Locked(f.now) {
		t.Fatal("account not locked after 5 failures")
	}
	if _, err := f.svc.Administer(ctx, admin, u.ID, account.OpUnlock); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Login(ctx, "operator.yoon", goodPassword, "10.1.1.1"); err != nil {
		t.Fatalf("after admin unlock: %v", err)
	}
	// Timed release.
	for range 5 {
		f.svc.Login(ctx, "operator.yoon", "wrong", "10.1.1.1")
	}
	f.now = f.now.Add(account.LockFor + time.Second)
	if _, err := f.svc.Login(ctx, "operator.yoon", goodPassword, "10.1.1.1"); err != nil {
		t.Fatalf("after the lock expired: %v", err)
	}
	// Every attempt is in the audit log, and the chain holds.
	entries, _ := f.audit.Query(ctx, audit.Filter{Action: "login"})
	denied := 0
	for _, e := range entries {
		if e.Outcome == audit.Denied {
			denied++
		}
	}
	if denied != 12 || len(entries) != 15 {
		t.Fatalf("audit: %d login entries, %d denied; want 15, 12", len(entries), denied)
	}
	if _, err := f.audit.Verify(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestTOTPAndRecoveryCodes(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, "outer")
	u := f.user(t, "officer.kang", "officer")
	if f.svc.NextStage(u) != account.StagePassword {
		t.Fatalf("new account's first stage: %s", f.svc.NextStage(u))
	}
	e, err := f.svc.BeginTOTP(ctx, u)
	if err != nil || len(e.QRPNG) == 0 || !strings.HasPrefix(e.URL, "otpauth://totp/") {
		t.Fatalf("BeginTOTP: %v", err)
	}
	again, _ := f.svc.PendingTOTP(ctx, u)
	if again.Secret != e.Secret {
		t.Fatal("a reloaded enrolment shows another secret")
	}
	if _, err := f.svc.ConfirmTOTP(ctx, admin, u, "000000", ""); !errors.Is(err, account.ErrBadCode) {
		t.Fatalf("wrong confirmation code: %v", err)
	}
	code, _ := totp.GenerateCode(e.Secret, f.now)
	codes, err := f.svc.ConfirmTOTP(ctx, admin, u, code, "")
	if err != nil || len(codes) != 10 {
		t.Fatalf("ConfirmTOTP: %v", err)
	}
	u, _ = f.svc.User(ctx, u.ID)
	if !u.TOTPEnabled {
		t.Fatal("TOTP not enabled")
	}
	// The confirming code cannot be replayed; the next step's code works once.
	if err := f.svc.VerifySecondFactor(ctx, admin, u, code); !errors.Is(err, account.ErrBadCode) {
		t.Fatalf("replayed code: %v", err)
	}
	f.now = f.now.Add(30 * time.Second)
	next, _ := totp.GenerateCode(e.Secret, f.now)
	if err := f.svc.VerifySecondFactor(ctx, admin, u, next); err != nil {
		t.Fatalf("fresh code: %v", err)
	}
	if err := f.svc.VerifySecondFactor(ctx, admin, u, next); !errors.Is(err, account.ErrBadCode) {
		t.Fatalf("same code twice: %v", err)
	}
	if err := f.svc.VerifySecondFactor(ctx, admin, u, strings.ToUpper(codes[3])); err != nil {
		t.Fatalf("recovery code: %v", err)
	}
	if err := f.svc.VerifySecondFactor(ctx, admin, u, codes[3]); !errors.Is(err, account.ErrBadCode) {
		t.Fatalf("recovery code reused: %v", err)
	}
	// Wrong codes count toward the lockout.
	for range 5 {
		f.svc.VerifySecondFactor(ctx, admin, u, "123456")
	}
	f.now = f.now.Add(30 * time.Second)
	code, _ = totp.GenerateCode(e.Secret, f.now)
	if err := f.svc.VerifySecondFactor(ctx, admin, u, code); !errors.Is(err, account.ErrBadCode) {
		t.Fatalf("right code while locked: %v", err)
	}
}

func TestSessions(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, "inner")
	u := f.user(t, "approver.seo", "approver")
	token, err := f.svc.StartSession(ctx, u, account.StageOK, "10.0.0.1", "test")
	if err != nil {
		t.Fatal(err)
	}
	s, err := f.svc.Session(ctx, token)
	if err != nil || s.User.Username != "approver.seo" {
		t.Fatalf("Session: %+v %v", s, err)
	}
	newToken, err := f.svc.Advance(ctx, s, account.StageOK)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Session(ctx, token); !errors.Is(err, account.ErrNoSession) {
		t.Fatal("the token before Advance still works")
	}
	// Idle timeout.
	f.now = f.now.Add(account.IdleTimeout + time.Second)
	if _, err := f.svc.Session(ctx, newToken); !errors.Is(err, account.ErrNoSession) {
		t.Fatal("session survived its idle timeout")
	}
	// Absolute timeout, even when active.
	token, _ = f.svc.StartSession(ctx, u, account.StageOK, "", "")
	for range 21 {
		f.now = f.now.Add(29 * time.Minute)
		f.svc.Session(ctx, token)
	}
	if _, err := f.svc.Session(ctx, token); !errors.Is(err, account.ErrNoSession) {
		t.Fatal("session survived its absolute timeout")
	}
	// Sign out everywhere.
	t1, _ := f.svc.StartSession(ctx, u, account.StageOK, "", "")
	t2, _ := f.svc.StartSession(ctx, u, account.StageOK, "", "")
	s1, _ := f.svc.Session(ctx, t1)
	if err := f.svc.EndSession(ctx, admin, s1, true); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Session(ctx, t2); !errors.Is(err, account.ErrNoSession) {
		t.Fatal("another session survived sign-out everywhere")
	}
	if _, err := f.svc.Session(ctx, "garbage"); !errors.Is(err, account.ErrNoSession) {
		t.Fatal("a malformed token found a session")
	}
}

func TestAdministration(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, "inner")
	root := f.user(t, "chief", "admin")
	op := f.user(t, "operator.lim", "operator")
	if _, err := f.svc.Administer(ctx, admin, root.ID, account.OpDisable); !errors.Is(err, account.ErrLastAdmin) {
		t.Fatalf("disabling the last admin: %v", err)
	}
	if err := f.svc.SetRole(ctx, admin, root.ID, "auditor"); !errors.Is(err, account.ErrLastAdmin) {
		t.Fatalf("demoting the last admin: %v", err)
	}
	token, _ := f.svc.StartSession(ctx, op, account.StageOK, "", "")
	if _, err := f.svc.Administer(ctx, admin, op.ID, account.OpDisable); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Session(ctx, token); !errors.Is(err, account.ErrNoSession) {
		t.Fatal("a disabled user's session still works")
	}
	if _, err := f.svc.Login(ctx, "operator.lim", goodPassword, ""); !errors.Is(err, account.ErrBadCredentials) {
		t.Fatal("a disabled user signed in")
	}
	f.svc.Administer(ctx, admin, op.ID, account.OpEnable)
	pw, err := f.svc.Administer(ctx, admin, op.ID, account.OpReset)
	if err != nil || len(pw) != 20 {
		t.Fatalf("reset: %q %v", pw, err)
	}
	u, err := f.svc.Login(ctx, "operator.lim", pw, "")
	if err != nil || !u.MustChangePassword {
		t.Fatalf("login with the reset password: %+v %v", u, err)
	}
	if err := f.svc.ChangePassword(ctx, admin, u.ID, pw, "weakweak", nil); err == nil {
		t.Fatal("a weak new password was accepted")
	}
	if err := f.svc.ChangePassword(ctx, admin, u.ID, "not it", goodPassword+"x", nil); !errors.Is(err, account.ErrBadCredentials) {
		t.Fatalf("wrong current password: %v", err)
	}
	if err := f.svc.ChangePassword(ctx, admin, u.ID, pw, goodPassword+"x", nil); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.SetRole(ctx, admin, op.ID, "approver"); err != nil {
		t.Fatal(err)
	}
	// The users table has no CHECK on roles: the service is what refuses
	// one this daemon does not have.
	if err := f.svc.SetRole(ctx, admin, op.ID, "officer"); !errors.Is(err, account.ErrBadRole) {
		t.Fatalf("an outer role on the inner: %v, want ErrBadRole", err)
	}
	if n, err := f.audit.Verify(ctx); err != nil || n < 8 {
		t.Fatalf("audit: %d, %v", n, err)
	}
}
