package audit_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"sealgate/shared/audit"
	"sealgate/shared/pgcluster"
	"sealgate/shared/pgdb"
	"sealgate/shared/pgdb/pgtest"
)

// rolePools gives a migrated database as the daemon sees it (the app role)
// and as the owner of its tables, who can go around the trigger.
func rolePools(t *testing.T) (app, owner *pgxpool.Pool) {
	t.Helper()
	url := pgtest.NewDatabase(t, pgdb.MustMigrations(audit.Schema))
	return pgtest.RolePool(t, url, pgcluster.AppRole), pgtest.RolePool(t, url, pgcluster.OwnerRole)
}

func TestServingRoleCannotRewriteTheLog(t *testing.T) {
	app, _ := rolePools(t)
	key := make([]byte, 32)
	rand.Read(key)
	l := audit.New(app, key)
	fill(t, l, 3)
	for _, sql := range []string{
		`UPDATE audit_log SET actor = 'someone-else' WHERE seq = 1`,
		`DELETE FROM audit_log WHERE seq = 3`,
		`TRUNCATE audit_log`,
		`ALTER TABLE audit_log DISABLE TRIGGER USER`,
		`DROP TABLE audit_log`,
	} {
		// The privilege check, not the trigger (whose message says append-only).
		_, err := app.Exec(context.Background(), sql)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "42501" || strings.Contains(pe.Message, "append-only") {
			t.Errorf("%s as the serving role: %v, want permission denied", sql, err)
		}
	}
	if n, err := l.Verify(context.Background()); err != nil || n != 3 {
		t.Fatalf("Verify = %d, %v", n, err)
	}
}

func anchorOf(t *testing.T, l *audit.Log) audit.Anchor {
	t.Helper()
	a, err := l.Anchor(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// Through the file format, as `audit anchor` and `audit verify --anchor` do.
	var buf bytes.Buffer
	if _, err := a.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	got, err := audit.ReadAnchor(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestAnchorReportsATruncatedTail(t *testing.T) {
	ctx := context.Background()
	app, owner := rolePools(t)
	key := make([]byte, 32)
	rand.Read(key)
	l := audit.New(app, key)
	fill(t, l, 5)
	a := anchorOf(t, l)
	if a.Seq != 5 {
		t.Fatalf("anchor at entry %d, want 5", a.Seq)
	}
	fill(t, l, 2) // entries after the anchor are fine
	if n, err := l.VerifyAnchor(ctx, a); err != nil || n != 7 {
		t.Fatalf("VerifyAnchor before the deletion = %d, %v", n, err)
	}

	tamper(t, owner, `DELETE FROM audit_log WHERE seq > 3`)
	if n, err := l.Verify(ctx); err != nil || n != 3 {
		t.Fatalf("Verify without the anchor = %d, %v; a shorter chain still holds", n, err)
	}
	n, err := l.VerifyAnchor(ctx, a)
	var be *audit.BrokenError
	if !errors.As(err, &be) || be.Seq != 4 || !strings.Contains(be.Reason, "truncated") || n != 3 {
		t.Fatalf("VerifyAnchor after deleting the tail = %d, %v; want entry 4 missing, truncated", n, err)
	}

	// Re-chaining new entries in place of the deleted ones takes the key;
	// the anchored entry's MAC still gives it away.
	fill(t, l, 4)
	n, err = l.VerifyAnchor(ctx, a)
	if !errors.As(err, &be) || be.Seq != 5 || !strings.Contains(be.Reason, "rewritten") || n != 4 {
		t.Fatalf("VerifyAnchor after re-chaining = %d, %v; want entry 5 rewritten", n, err)
	}
}

func TestAnchorIsSignedAndOnlyOfAnIntactChain(t *testing.T) {
	ctx := context.Background()
	app, owner := rolePools(t)
	key := make([]byte, 32)
	rand.Read(key)
	l := audit.New(app, key)
	if a := anchorOf(t, l); a.Seq != 0 {
		t.Fatalf("anchor of an empty log at %d", a.Seq)
	}
	fill(t, l, 3)
	a := anchorOf(t, l)

	lowered := a
	lowered.Seq = 2 // what hiding a deletion would need
	if _, err := l.VerifyAnchor(ctx, lowered); !errors.Is(err, audit.ErrAnchorSignature) {
		t.Fatalf("VerifyAnchor of an edited anchor: %v, want ErrAnchorSignature", err)
	}
	other := make([]byte, 32)
	rand.Read(other)
	if _, err := audit.New(app, other).VerifyAnchor(ctx, a); !errors.Is(err, audit.ErrAnchorSignature) {
		t.Fatalf("VerifyAnchor under another appliance's key: %v, want ErrAnchorSignature", err)
	}
	if _, err := audit.ReadAnchor(strings.NewReader(`{"format":"other"}`)); err == nil {
		t.Fatal("ReadAnchor accepted another format")
	}

	tamper(t, owner, `UPDATE audit_log SET target = 'nothing to see' WHERE seq = 2`)
	var be *audit.BrokenError
	if _, err := l.Anchor(ctx); !errors.As(err, &be) || be.Seq != 2 {
		t.Fatalf("Anchor of a broken chain: %v, want entry 2 broken", err)
	}
}
