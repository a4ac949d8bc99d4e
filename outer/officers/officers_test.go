package officers_test

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
	"github.com/prometheus/client_golang/prometheus"

	"sealgate/outer/officers"
	"sealgate/outer/store"
	"sealgate/shared/account"
	"sealgate/shared/audit"
	"sealgate/shared/pgdb/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// fixture is an outer database with the account service and the registry,
// on a clock the test moves.
type fixture struct {
	reg      *officers.Registry
	accounts *account.Service
	audit    *audit.Log
	pool     *pgxpool.Pool
	metrics  *prometheus.Registry
	now      time.Time
}

var admin = account.Actor{Name: "admin.park", Remote: "10.9.9.9"}

func newFixture(t *testing.T, domains ...string) *fixture {
	t.Helper()
	ctx := context.Background()
	pool := pgtest.NewPool(t, store.Migrations())
	key := make([]byte, 96)
	rand.Read(key)
	f := &fixture{pool: pool, audit: audit.New(pool, key[:32]), metrics: prometheus.NewRegistry(), now: time.Now()}
	var err error
	f.accounts, err = account.NewService(ctx, pool, account.Config{Issuer: "Sealgate test", Roles: []string{"admin", "officer"},
		TOTPRoles: []string{"admin", "officer"}, PIIKey: key[32:], Audit: f.audit, PasswordCost: account.TestPasswordCost})
	if err != nil {
		t.Fatal(err)
	}
	f.reg, err = officers.New(officers.Config{DB: pool, Accounts: f.accounts, Audit: f.audit, EmailDomains: domains, Metrics: f.metrics})
	if err != nil {
		t.Fatal(err)
	}
	officers.SetClock(f.reg, func() time.Time { return f.now })
	return f
}

const chosen = "Jongno 3-ga lantern 77!"

func form(name, badge, email, username string) officers.Form {
	return officers.Form{Person: officers.Person{FullName: name, Agency: "서울종로경찰서", Badge: badge, Phone: "010-2345-6789", Email: email},
		Username: username, Password: chosen, Confirm: chosen}
}

func (f *fixture) register(t *testing.T, fm officers.Form) {
	t.Helper()
	if err := f.reg.Register(context.Background(), fm, "10.1.2.3"); err != nil {
		t.Fatalf("register %s: %v", fm.Username, err)
	}
}

func (f *fixture) pending(t *testing.T) []*officers.Registration {
	t.Helper()
	rs, err := f.reg.Pending(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// count is the registrations counter of outcome.
func (f *fixture) count(t *testing.T, outcome string) float64 {
	t.Helper()
	mfs, err := f.metrics.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "sealgate_officers_registrations_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			if m.GetLabel()[0].GetValue() == outcome {
				return m.GetCounter().GetValue()
			}
		}
	}
	t.Fatalf("no registrations counter for %s", outcome)
	return 0
}

func (f *fixture) entries(t *testing.T, action string) []audit.Entry {
	t.Helper()
	es, err := f.audit.Query(context.Background(), audit.Filter{Action: action})
	if err != nil {
		t.Fatal(err)
	}
	return es
}

// erased fails unless registration id kept nothing personal.
func (f *fixture) erased(t *testing.T, id int64, state string) {
	t.Helper()
	var got string
	var left bool
	err := f.pool.QueryRow(context.Background(), `SELECT state, num_nonnulls(username, password_hash, full_name, agency, badge, badge_index,
		phone, email, email_index) > 0 FROM officer_registrations WHERE id = $1`, id).Scan(&got, &left)
	if err != nil || got != state || left {
		t.Fatalf("registration %d: state %s, personal data left %v (%v); want %s and erased", id, got, left, err, state)
	}
}

// TestRegisterApproveAndSignIn: a request is kept encrypted, with only
// the password's hash; approval makes the officer's account with that
// password (no forced change: nobody else saw it; TOTP enrolment next)
// and the profile, and erases the request's copy.
func TestRegisterApproveAndSignIn(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, "police.go.kr")
	f.register(t, form(" 윤서연 ", "12-34 56", "Yoon.SY@Jongno.Police.go.kr", "Officer.Yoon"))
	rs := f.pending(t)
	if len(rs) != 1 {
		t.Fatalf("%d pending, want 1", len(rs))
	}
	g := rs[0]
	if g.Username != "officer.yoon" || g.FullName != "윤서연" || g.Badge != "123456" || g.Email != "yoon.sy@jongno.police.go.kr" || g.UsernameTaken {
		t.Fatalf("pending request: %+v", g)
	}
	var row []byte
	f.pool.QueryRow(ctx, `SELECT convert_to(concat_ws('|', username, password_hash, encode(full_name, 'escape'), encode(agency, 'escape'),
		encode(badge, 'escape'), encode(phone, 'escape'), encode(email, 'escape')), 'UTF8') FROM officer_registrations WHERE id = $1`, g.ID).Scan(&row)
	for _, clear := range []string{"윤서연", "종로", "123456", "2345", "jongno", chosen} {
		if bytes.Contains(row, []byte(clear)) {
			t.Fatalf("%q stored in clear: %q", clear, row)
		}
	}
	if !bytes.Contains(row, []byte("$argon2id$")) {
		t.Fatalf("no Argon2id hash in the request: %q", row)
	}

	username, err := f.reg.Approve(ctx, admin, g.ID)
	if err != nil || username != "officer.yoon" {
		t.Fatalf("approve: %q %v", username, err)
	}
	u, err := f.accounts.Login(ctx, "officer.yoon", chosen, "10.1.2.3")
	if err != nil || u.Role != "officer" || u.MustChangePassword || u.FullName != "윤서연" || u.Affiliation != "서울종로경찰서" {
		t.Fatalf("sign in with the chosen password: %+v %v", u, err)
	}
	if st := f.accounts.NextStage(u); st != account.StageTOTPEnroll {
		t.Fatalf("next stage %s, want TOTP enrolment", st)
	}
	p, err := f.reg.Profile(ctx, "officer.yoon")
	if err != nil || p.FullName != "윤서연" || p.Badge != "123456" || p.Phone != "010-2345-6789" || p.RegistrationID != g.ID || p.CreatedBy != admin.Name {
		t.Fatalf("profile: %+v %v", p, err)
	}
	f.erased(t, g.ID, "approved")
	if rs := f.pending(t); len(rs) != 0 {
		t.Fatalf("still pending after approval: %+v", rs)
	}
	ds, err := f.reg.Decided(ctx, 10)
	if err != nil || len(ds) != 1 || ds[0].State != "approved" || ds[0].Username != "officer.yoon" || ds[0].DecidedBy != admin.Name {
		t.Fatalf("decisions: %+v %v", ds, err)
	}
	if _, err := f.reg.Approve(ctx, admin, g.ID); !errors.Is(err, officers.ErrNoRegistration) {
		t.Fatalf("approving twice: %v", err)
	}
	if _, err := f.reg.Profile(ctx, "officer.nobody"); !errors.Is(err, officers.ErrNoProfile) {
		t.Fatalf("profile of no one: %v", err)
	}
	req, appr := f.entries(t, "registration.request"), f.entries(t, "registration.approve")
	if len(req) != 1 || req[0].Actor != "-" || req[0].Remote != "10.1.2.3" || len(appr) != 1 || appr[0].Target != "officer.yoon" || appr[0].Actor != admin.Name {
		t.Fatalf("audit: %+v %+v", req, appr)
	}
	if len(f.entries(t, "user.create")) != 1 {
		t.Fatal("the account's creation is not audited")
	}
	if f.count(t, officers.OutcomeRequested) != 1 || f.count(t, officers.OutcomeApproved) != 1 {
		t.Fatal("metrics do not count the request and the approval")
	}
	if _, err := f.audit.Verify(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestFieldsAreCheckedOneByOne(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, "police.go.kr")
	good := form("김하늘", "A12345", "kim@police.go.kr", "officer.kim")
	for _, tc := range []struct {
		name   string
		edit   func(*officers.Form)
		fields []string
	}{
		{"all empty", func(fm *officers.Form) { *fm = officers.Form{} },
			[]string{"full_name", "agency", "badge", "phone", "email", "username", "password"}},
		{"too long a name", func(fm *officers.Form) { fm.FullName = strings.Repeat("가", 51) }, []string{"full_name"}},
		{"a control character", func(fm *officers.Form) { fm.Agency = "종로\u202e서" }, []string{"agency"}},
		{"a badge with symbols", func(fm *officers.Form) { fm.Badge = "12#45" }, []string{"badge"}},
		{"a phone with letters", func(fm *officers.Form) { fm.Phone = "010-CALL-ME" }, []string{"phone"}},
		{"too short a phone", func(fm *officers.Form) { fm.Phone = "1234" }, []string{"phone"}},
		{"not an address", func(fm *officers.Form) { fm.Email = "Kim <kim@police.go.kr>" }, []string{"email"}},
		{"another domain", func(fm *officers.Form) { fm.Email = "kim@gmail.com" }, []string{"email"}},
		{"a look-alike domain", func(fm *officers.Form) { fm.Email = "kim@evilpolice.go.kr" }, []string{"email"}},
		{"a bad user name", func(fm *officers.Form) { fm.Username = "김" }, []string{"username"}},
		{"a weak password", func(fm *officers.Form) { fm.Password, fm.Confirm = "Password123!", "Password123!" }, []string{"password"}},
		{"a mismatched confirmation", func(fm *officers.Form) { fm.Confirm = "something else" }, []string{"confirm"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fm := good
			tc.edit(&fm)
			err := f.reg.Register(ctx, fm, "10.1.2.3")
			var es officers.FieldErrors
			if !errors.As(err, &es) || len(es) != len(tc.fields) {
				t.Fatalf("%v, want errors on %v", err, tc.fields)
			}
			for _, field := range tc.fields {
				e := es.Field(field)
				if e == nil {
					t.Fatalf("no error on %s: %v", field, err)
				}
				if ko, en := e.Message("ko"), e.Message("en"); strings.Contains(ko, "officers.") || strings.Contains(en, "officers.") || ko == en {
					t.Errorf("messages of %s: %q / %q", field, ko, en)
				}
			}
		})
	}
	if rs := f.pending(t); len(rs) != 0 {
		t.Fatalf("a wrong form was stored: %+v", rs)
	}
	// A subdomain of an official domain is official.
	f.register(t, form("김하늘", "A12345", "kim@seoul.police.go.kr", "officer.kim"))
}

// TestDuplicatesAreRefusedUnseen: a second request with a badge or an
// e-mail already pending or an officer's is not stored, and the visitor is
// answered as for any other.
func TestDuplicatesAreRefusedUnseen(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.register(t, form("이도윤", "SG-2024-01", "lee@police.go.kr", "officer.lee"))
	f.register(t, form("이도현", "sg 2024 01", "other@police.go.kr", "officer.lee2")) // the same badge, spelled otherwise
	f.register(t, form("이도현", "SG202402", "LEE@police.go.kr", "officer.lee3"))     // the same e-mail
	if rs := f.pending(t); len(rs) != 1 || rs[0].Username != "officer.lee" {
		t.Fatalf("pending after duplicates: %+v", rs)
	}
	if _, err := f.reg.Approve(ctx, admin, f.pending(t)[0].ID); err != nil {
		t.Fatal(err)
	}
	f.register(t, form("이도현", "SG202401", "new@police.go.kr", "officer.lee4")) // an officer's badge
	if rs := f.pending(t); len(rs) != 0 {
		t.Fatalf("a request with an officer's badge was stored: %+v", rs)
	}
	// An admin cannot create a second officer with that badge either.
	_, _, err := f.reg.Create(ctx, admin, form("이도현", "SG202401", "new@police.go.kr", "officer.lee5"))
	var es officers.FieldErrors
	if !errors.As(err, &es) || es.Field("badge") == nil {
		t.Fatalf("direct creation with an officer's badge: %v", err)
	}
	if _, err := f.accounts.ByName(ctx, "officer.lee5"); !errors.Is(err, account.ErrNoUser) {
		t.Fatalf("the refused creation left an account: %v", err)
	}
	denied := 0
	for _, e := range f.entries(t, "registration.request") {
		if e.Outcome == audit.Denied {
			denied++
		}
	}
	if denied != 3 || f.count(t, officers.OutcomeDuplicate) != 3 || f.count(t, officers.OutcomeRequested) != 1 {
		t.Fatalf("%d duplicates audited, %v counted", denied, f.count(t, officers.OutcomeDuplicate))
	}
}

// TestTakenUsernameIsRefusedAtApproval: the visitor is not told that a
// user name exists; the admin is, and approval is refused.
func TestTakenUsernameIsRefusedAtApproval(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	existing, _, err := f.accounts.CreateUser(ctx, admin, account.NewUser{Username: "officer.kang", Role: "officer", Password: "Hwangsa-Bridge 7 lanterns!"})
	if err != nil {
		t.Fatal(err)
	}
	f.register(t, form("강민재", "K7777", "kang@police.go.kr", "officer.kang"))
	rs := f.pending(t)
	if len(rs) != 1 || !rs[0].UsernameTaken {
		t.Fatalf("pending: %+v", rs)
	}
	if _, err := f.reg.Approve(ctx, admin, rs[0].ID); !errors.Is(err, officers.ErrUsernameTaken) {
		t.Fatalf("approve a taken user name: %v", err)
	}
	if _, err := f.accounts.Login(ctx, "officer.kang", chosen, "10.1.2.3"); !errors.Is(err, account.ErrBadCredentials) {
		t.Fatalf("the request's password opens the existing account: %v", err)
	}
	if u, _ := f.accounts.ByName(ctx, "officer.kang"); u.ID != existing.ID {
		t.Fatal("the existing account was replaced")
	}
	if _, err := f.reg.Profile(ctx, "officer.kang"); !errors.Is(err, officers.ErrNoProfile) {
		t.Fatalf("a profile was attached to the existing account: %v", err)
	}
	if rs := f.pending(t); len(rs) != 1 {
		t.Fatal("the refused approval closed the request")
	}
	if es := f.entries(t, "registration.approve"); len(es) != 1 || es[0].Outcome != audit.Denied {
		t.Fatalf("audit of the refused approval: %+v", es)
	}
}

// TestRefusalErasesThePersonalData: who refused, when and why are kept;
// nothing the visitor gave is.
func TestRefusalErasesThePersonalData(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.register(t, form("정예린", "J5555", "jung@police.go.kr", "officer.jung"))
	id := f.pending(t)[0].ID
	if err := f.reg.Refuse(ctx, admin, id, "  "); !errors.Is(err, officers.ErrNoReason) {
		t.Fatalf("refuse without a reason: %v", err)
	}
	if err := f.reg.Refuse(ctx, admin, id, "소속 확인 불가"); err != nil {
		t.Fatal(err)
	}
	f.erased(t, id, "refused")
	ds, err := f.reg.Decided(ctx, 10)
	if err != nil || len(ds) != 1 || ds[0].Reason != "소속 확인 불가" || ds[0].DecidedBy != admin.Name || ds[0].Username != "" {
		t.Fatalf("decisions: %+v %v", ds, err)
	}
	if err := f.reg.Refuse(ctx, admin, id, "again"); !errors.Is(err, officers.ErrNoRegistration) {
		t.Fatalf("refuse twice: %v", err)
	}
	if _, err := f.reg.Approve(ctx, admin, id); !errors.Is(err, officers.ErrNoRegistration) {
		t.Fatalf("approve a refused request: %v", err)
	}
	es := f.entries(t, "registration.")
	for _, e := range es {
		for _, clear := range []string{"정예린", "J5555", "jung@", "officer.jung"} {
			if strings.Contains(e.Target+e.Detail, clear) {
				t.Errorf("the audit log keeps %q: %+v", clear, e)
			}
		}
	}
	if len(es) != 2 || es[0].Action != "registration.refuse" || es[0].Detail != "소속 확인 불가" {
		t.Fatalf("audit: %+v", es)
	}
	// The badge is free again: the refused request holds nothing.
	f.register(t, form("정예린", "J5555", "jung@police.go.kr", "officer.jung"))
	if len(f.pending(t)) != 1 || f.count(t, officers.OutcomeRefused) != 1 {
		t.Fatal("a new request after a refusal was not stored")
	}
}

// TestUndecidedRequestsExpire after PendingFor, erased.
func TestUndecidedRequestsExpire(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.register(t, form("한지우", "H1111", "han@police.go.kr", "officer.han"))
	id := f.pending(t)[0].ID
	f.now = f.now.Add(officers.PendingFor - time.Minute)
	if len(f.pending(t)) != 1 {
		t.Fatal("expired early")
	}
	f.now = f.now.Add(2 * time.Minute)
	if rs := f.pending(t); len(rs) != 0 {
		t.Fatalf("still pending after %s: %+v", officers.PendingFor, rs)
	}
	f.erased(t, id, "expired")
	if _, err := f.reg.Approve(ctx, admin, id); !errors.Is(err, officers.ErrNoRegistration) {
		t.Fatalf("approve an expired request: %v", err)
	}
	if es := f.entries(t, "registration.expire"); len(es) != 1 || es[0].Actor != "system" || f.count(t, officers.OutcomeExpired) != 1 {
		t.Fatalf("audit of the purge: %+v", es)
	}
}

// TestCiphertextsAreBoundToTheirRow: a request's personal data copied to
// another request's row does not decrypt.
func TestCiphertextsAreBoundToTheirRow(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	f.register(t, form("오세훈", "O1111", "oh1@police.go.kr", "officer.oh1"))
	f.register(t, form("오세진", "O2222", "oh2@police.go.kr", "officer.oh2"))
	if _, err := f.pool.Exec(ctx, `UPDATE officer_registrations SET full_name = (SELECT full_name FROM officer_registrations WHERE username = 'officer.oh1')
		WHERE username = 'officer.oh2'`); err != nil {
		t.Fatal(err)
	}
	if _, err := f.reg.Pending(ctx); err == nil {
		t.Fatal("a ciphertext moved between requests decrypted")
	}
}

// TestAdminCreatesAnOfficer directly: account and profile at once, a
// generated password to be changed at the first sign-in.
func TestAdminCreatesAnOfficer(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	name, pw, err := f.reg.Create(ctx, admin, form("배수아", "B3333", "bae@police.go.kr", " Officer.Bae"))
	if err != nil || len(pw) != 20 || name != "officer.bae" {
		t.Fatalf("create: %q %q %v", name, pw, err)
	}
	u, err := f.accounts.Login(ctx, "officer.bae", pw, "10.1.2.3")
	if err != nil || !u.MustChangePassword || u.Role != "officer" {
		t.Fatalf("sign in with the generated password: %+v %v", u, err)
	}
	p, err := f.reg.Profile(ctx, "officer.bae")
	if err != nil || p.Badge != "B3333" || p.Email != "bae@police.go.kr" || p.RegistrationID != 0 {
		t.Fatalf("profile: %+v %v", p, err)
	}
	_, _, err = f.reg.Create(ctx, admin, form("배수진", "B4444", "bae2@police.go.kr", "officer.bae"))
	var es officers.FieldErrors
	if !errors.As(err, &es) || es.Field("username") == nil {
		t.Fatalf("a taken user name: %v", err)
	}
	if es := f.entries(t, "officer.create"); len(es) != 1 || es[0].Target != "officer.bae" {
		t.Fatalf("audit: %+v", es)
	}
}
