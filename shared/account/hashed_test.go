package account_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5"

	"sealgate/shared/account"
	"sealgate/shared/audit"
)

// A password chosen before its account exists is hashed at once and the
// account made from the hash: the user signs in with it, is not asked to
// change it (nobody else saw it), and goes on to enrol TOTP.
func TestCreateUserFromAHashedPassword(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, "outer")
	var pe *account.PolicyError
	if _, err := f.svc.HashPassword(ctx, "officer.seo2026!", "officer.seo"); !errors.As(err, &pe) || pe.Reason != "pw.username" {
		t.Fatalf("a password holding the user name: %v", err)
	}
	hash, err := f.svc.HashPassword(ctx, goodPassword, "officer.seo", "서지원", "부산해운대경찰서")
	if err != nil {
		t.Fatal(err)
	}
	create := func(n account.NewHashedUser) (int64, error) {
		var id int64
		err := pgx.BeginFunc(ctx, f.pool, func(tx pgx.Tx) error {
			var err error
			id, err = f.svc.CreateUserTx(ctx, tx, admin, n)
			return err
		})
		return id, err
	}
	id, err := create(account.NewHashedUser{Username: "officer.seo", Role: "officer", FullName: "서지원", Affiliation: "부산해운대경찰서", PasswordHash: hash})
	if err != nil {
		t.Fatal(err)
	}
	u, err := f.svc.Login(ctx, "officer.seo", goodPassword, "10.2.2.2")
	if err != nil || u.ID != id || u.MustChangePassword || u.FullName != "서지원" {
		t.Fatalf("sign in with the chosen password: %+v %v", u, err)
	}
	if st := f.svc.NextStage(u); st != account.StageTOTPEnroll {
		t.Fatalf("next stage %s, want TOTP enrolment", st)
	}
	if _, err := create(account.NewHashedUser{Username: "officer.seo", Role: "officer", PasswordHash: hash}); !errors.Is(err, account.ErrUserExists) {
		t.Errorf("a taken user name: %v", err)
	}
	if _, err := create(account.NewHashedUser{Username: "officer.ko", Role: "officer", PasswordHash: "$argon2id$v=19$m=1,t=1,p=1$x$y"}); !errors.Is(err, account.ErrBadHash) {
		t.Errorf("a malformed hash: %v", err)
	}
	if _, err := create(account.NewHashedUser{Username: "officer.ko", Role: "auditor", PasswordHash: hash}); !errors.Is(err, account.ErrBadRole) {
		t.Errorf("a role the outer lacks: %v", err)
	}
	// The account and its audit entry go with the caller's transaction.
	errLater := errors.New("a later step failed")
	err = pgx.BeginFunc(ctx, f.pool, func(tx pgx.Tx) error {
		if _, err := f.svc.CreateUserTx(ctx, tx, admin, account.NewHashedUser{Username: "officer.ko", Role: "officer", PasswordHash: hash}); err != nil {
			return err
		}
		return errLater
	})
	if !errors.Is(err, errLater) {
		t.Fatal(err)
	}
	if _, err := f.svc.ByName(ctx, "officer.ko"); !errors.Is(err, account.ErrNoUser) {
		t.Fatalf("account left by a rolled-back transaction: %v", err)
	}
	entries, err := f.audit.Query(ctx, audit.Filter{Action: "user.create"})
	if err != nil || len(entries) != 1 || entries[0].Target != "officer.seo" {
		t.Fatalf("user.create entries: %+v %v", entries, err)
	}
}
