package account_test

import (
	"context"
	"errors"
	"os"
	"testing"

	"sealgate/shared/account"
	"sealgate/shared/pgdb"
	"sealgate/shared/pgdb/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// schemas are the daemons' real migrations, read from disk so shared/ does
// not import the daemons.
func schema(t *testing.T, daemon string) []pgdb.Migration {
	t.Helper()
	ms, err := pgdb.Migrations(os.DirFS("../../"+daemon+"/store"), "migrations")
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

func TestCreateUser(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		daemon, allowed, refused string
	}{
		{"inner", "approver", "officer"},
		{"outer", "officer", "approver"},
	} {
		t.Run(tc.daemon, func(t *testing.T) {
			s := account.NewStore(pgtest.NewPool(t, schema(t, tc.daemon)))
			u, err := s.CreateUser(ctx, "kim.minji", "admin", "$argon2id$x", true)
			if err != nil || u.ID == 0 || !u.MustChangePassword {
				t.Fatalf("CreateUser: %+v, %v", u, err)
			}
			if _, err := s.CreateUser(ctx, "kim.minji", "admin", "h", true); !errors.Is(err, account.ErrUserExists) {
				t.Errorf("duplicate: %v, want ErrUserExists", err)
			}
			if _, err := s.CreateUser(ctx, "lee", tc.allowed, "h", true); err != nil {
				t.Errorf("role %s: %v", tc.allowed, err)
			}
			if _, err := s.CreateUser(ctx, "park", tc.refused, "h", true); !errors.Is(err, account.ErrBadRole) {
				t.Errorf("role %s on %s: %v, want ErrBadRole", tc.refused, tc.daemon, err)
			}
			for _, name := range []string{"ab", "Kim", "-x-y", "a b c", "averyveryverylongusernamethatistoolong"} {
				if _, err := s.CreateUser(ctx, name, "admin", "h", true); !errors.Is(err, account.ErrBadUsername) {
					t.Errorf("username %q: %v, want ErrBadUsername", name, err)
				}
			}
			if n, err := s.CountByRole(ctx, "admin"); err != nil || n != 1 {
				t.Errorf("CountByRole(admin) = %d, %v", n, err)
			}
		})
	}
}
